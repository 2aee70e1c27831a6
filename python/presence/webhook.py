"""Receiving presence's expiry webhook.

verify_webhook checks one signed delivery and returns its event;
handle_webhook is a receiver's whole logic (verify, record the end, delete
the login session) with the cache and the session deleter as parameters,
so that any framework's view is a few lines around it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, Union

from .enforce import ENDED_PREFIX, SID_PREFIX, error_body
from .tokens import ClaimsError, Secret, check_sid, secret_bytes

# The webhook's signature header and presence's replay tolerance, as in
# webhook/sign.go.
SIGNATURE_HEADER = "Presence-Signature"
TOLERANCE = 300
MAX_WEBHOOK_BODY = 64 << 10  # presence's deliveries are under 1 KiB

_TS_RE = re.compile(r"[+-]?[0-9]+\Z")
_HEX_RE = re.compile(r"(?:[0-9A-Fa-f]{2})*\Z")


class WebhookError(ValueError):
    """WebhookError means a webhook delivery must be refused.

    code is one of "no_signature", "stale", "mismatch" or "bad_json"; the
    message says what exactly is wrong and never contains a secret.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__("presence webhook: " + message)
        self.code = code


def verify_webhook(
    body: Union[bytes, str],
    signature_header: Optional[str],
    secrets: Union[Secret, Iterable[Secret]],
    *,
    now: Optional[float] = None,
    tolerance: float = TOLERANCE,
) -> Dict[str, Any]:
    """Checks one delivery of presence's webhook and returns its event.

    body is the raw request body, exactly as received; signature_header
    is the Presence-Signature header, "t=<unix>,v1=<hex HMAC-SHA256(
    secret, "<t>.<body>")>". secrets is one secret or several (the current
    one and those being rotated out); any of them may have signed. A
    signature more than tolerance seconds away from now (default: the
    current time) is refused as a replay. Signatures are compared in
    constant time.

    Returns the event, a dict with "sid", "uid", "reason" ("idle",
    "logout", "revoked" or "lifetime") and "at" (RFC 3339 UTC), or raises
    WebhookError whose code says what is wrong: "no_signature", "stale",
    "mismatch" or "bad_json".
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    body = bytes(body)
    if isinstance(secrets, (bytes, bytearray, memoryview, str)):
        keys = [secret_bytes(secrets)]
    else:
        keys = [secret_bytes(s) for s in secrets]
    if not keys:
        raise ValueError("presence: verify_webhook needs at least one secret")

    ts, sigs = "", []
    for part in (signature_header or "").split(","):
        k, sep, v = part.strip().partition("=")
        if not sep:
            continue
        if k == "t":
            ts = v
        elif k == "v1" and _HEX_RE.match(v):
            sigs.append(bytes.fromhex(v))
    if not _TS_RE.match(ts) or not sigs or abs(int(ts)) > 2**63 - 1:
        raise WebhookError("no_signature", "no valid %s header (want t=<unix>,v1=<hex>)" % SIGNATURE_HEADER)

    signed_at = int(ts)
    skew = (time.time() if now is None else now) - signed_at
    if abs(skew) > tolerance:
        when = "%d s ago" % skew if skew > 0 else "%d s in the future" % -skew
        raise WebhookError(
            "stale", "signature timestamp %d is %s, outside the tolerance of %d s" % (signed_at, when, tolerance)
        )

    signed = ts.encode("ascii") + b"." + body
    ok = False
    for key in keys:
        want = hmac.new(key, signed, hashlib.sha256).digest()
        for sig in sigs:
            # No early exit: every comparison runs, in constant time.
            ok |= hmac.compare_digest(sig, want)
    if not ok:
        raise WebhookError("mismatch", "signature does not match the body with any configured secret")

    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookError("bad_json", "body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookError("bad_json", "body is not a JSON object")
    for field in ("sid", "reason"):
        if not isinstance(event.get(field), str):
            raise WebhookError("bad_json", "body has no string %r" % field)
    try:
        check_sid(event["sid"])
    except ClaimsError as e:
        raise WebhookError("bad_json", "body's sid is invalid: " + e.problem) from None
    return event


def handle_webhook(
    method: str,
    body: bytes,
    signature_header: Optional[str],
    *,
    secrets: Sequence[Secret],
    cache: Any,
    delete_session: Callable[[str], None],
    ttl: int,
    now: Optional[float] = None,
) -> Tuple[int, Optional[Dict[str, Any]]]:
    """Handles one webhook request; returns the HTTP status and the JSON
    body to answer with (None for no body).

    A verified event is recorded as presence:ended:<sid> for ttl seconds;
    then, when the login or a page recorded which login session the sid
    names (presence:sid:<sid>), that session is deleted with
    delete_session and the mapping dropped. The answers are those of
    presence's Go backend.WebhookHandler: 204 when done; 405 to a method
    other than POST; 413 to a body over 64 KiB; 401 to a missing, wrong or
    stale signature; 400 to a signed body that is not an event; 500 when
    delete_session raises, so that presence retries. Errors are
    {"error": {"code", "message"}}. Repeated deliveries (presence retries
    with the same Idempotency-Key) are harmless.
    """
    if method != "POST":
        return 405, error_body("method_not_allowed", "the webhook takes POST only")
    if len(body) > MAX_WEBHOOK_BODY:
        return 413, error_body("too_large", "the body is over 64 KiB")
    try:
        event = verify_webhook(body, signature_header, secrets, now=now)
    except WebhookError as e:
        if e.code == "bad_json":
            return 400, error_body("bad_event", str(e))
        return 401, error_body("bad_signature", str(e))
    sid = event["sid"]
    cache.set(ENDED_PREFIX + sid, event["reason"], ttl)
    session_key = cache.get(SID_PREFIX + sid)
    if session_key:
        try:
            delete_session(session_key)
        except Exception:
            return 500, error_body("on_end_failed", "the login session could not be deleted; retry")
        cache.delete(SID_PREFIX + sid)
    return 204, None
