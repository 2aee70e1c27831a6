"""Tokens for presence's pages, and the session ids they name.

mint_token makes the token a page hands presence.js: a gorilla/securecookie
value that presence verifies with the secret both sides share. session_id
derives the token's opaque session id from a login session key, so that
page scripts, which can read the token, never see the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import unicodedata
from typing import Any, Dict, Optional, Union

Secret = Union[bytes, str]

# The limits presence puts on a token, as session/claims.go and
# session/token.go do.
MIN_SECRET_LEN = 32
MAX_SID_LEN = 128
MAX_UID_LEN = 256  # bytes of UTF-8
MAX_LOGOUT_URL_LEN = 2048  # bytes of UTF-8
MAX_LIMIT_SECONDS = 366 * 24 * 3600
MAX_TOKEN_LEN = 4096
MAX_END_AT = 253402300799  # the last second of the year 9999
TOKEN_MAX_AGE = 12 * 3600  # presence's default -token-max-age, in seconds

_COOKIE_NAME = b"presence"  # the securecookie name bound into every MAC
_SID_RE = re.compile(r"[A-Za-z0-9._:-]+\Z")


class ClaimsError(ValueError):
    """ClaimsError reports a claim presence would refuse, and why.

    field is the claim's JSON name ("sid", "uid", "warn_after",
    "expire_after", "logout_url", "end_at") or "secret" or "token".
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__("presence: %s %s" % (field, problem))
        self.field = field
        self.problem = problem


def secret_bytes(secret: Secret) -> bytes:
    """Returns a secret as bytes: a str is taken as UTF-8, as presence
    takes PRESENCE_SECRET."""
    if isinstance(secret, str):
        return secret.encode("utf-8")
    if isinstance(secret, (bytes, bytearray, memoryview)):
        return bytes(secret)
    raise TypeError("a presence secret must be bytes or str, not %s" % type(secret).__name__)


def _utf8_len(field: str, value: str) -> int:
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise ClaimsError(field, "is not valid Unicode (it holds a lone surrogate)") from None


def check_sid(sid: Any) -> None:
    """Raises ClaimsError unless sid is a session id presence accepts: 1 to
    128 characters of [A-Za-z0-9._:-]."""
    if not isinstance(sid, str):
        raise ClaimsError("sid", "must be a str, not %s" % type(sid).__name__)
    if sid == "":
        raise ClaimsError("sid", "is missing; set it to an opaque id of the application's session")
    if len(sid) > MAX_SID_LEN:
        raise ClaimsError("sid", "is %d characters; it must be at most %d" % (len(sid), MAX_SID_LEN))
    if not _SID_RE.match(sid):
        bad = next(i for i, ch in enumerate(sid) if not _SID_RE.match(ch))
        raise ClaimsError("sid", "has %r at %d; it may hold only A-Z a-z 0-9 . _ : -" % (sid[bad], bad))


def check_seconds(field: str, value: Any) -> int:
    """Returns value if it is a limit presence accepts (whole seconds, 1 s
    to 366 days), else raises ClaimsError naming field."""
    # bool is an int in Python, but true is not a number of seconds.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ClaimsError(field, "must be a whole number of seconds, not %r" % (value,))
    if value <= 0:
        raise ClaimsError(field, "is %d; it must be a positive number of seconds, or None for presence's default" % value)
    if value > MAX_LIMIT_SECONDS:
        raise ClaimsError(field, "is %d s; it must be at most %d s (366 days)" % (value, MAX_LIMIT_SECONDS))
    return value


def check_end_at(end_at: Any) -> int:
    """Returns end_at if it is an absolute end presence accepts (a Unix
    time in whole seconds, up to the year 9999), else raises ClaimsError."""
    if isinstance(end_at, bool) or not isinstance(end_at, int):
        raise ClaimsError("end_at", "must be a Unix time in whole seconds, not %r" % (end_at,))
    if end_at < 0:
        raise ClaimsError("end_at", "is %d; it must be a Unix time in seconds, or None for no absolute end" % end_at)
    if end_at > MAX_END_AT:
        raise ClaimsError("end_at", "is %d, after the year 9999; it must be a Unix time in seconds, not milliseconds" % end_at)
    return end_at


def check_uid(uid: Any) -> str:
    """Returns uid as presence carries it (a str; an int such as a Django
    user's pk is written in decimal), or raises ClaimsError."""
    if isinstance(uid, int) and not isinstance(uid, bool):
        uid = str(uid)
    if not isinstance(uid, str):
        raise ClaimsError("uid", "must be a str or an int, not %s" % type(uid).__name__)
    n = _utf8_len("uid", uid)
    if n > MAX_UID_LEN:
        raise ClaimsError("uid", "is %d bytes; it must be at most %d" % (n, MAX_UID_LEN))
    return uid


def check_limits(warn_after: Optional[int], expire_after: Optional[int]) -> None:
    """Raises ClaimsError unless each given limit is valid and, when both
    are given, warn_after < expire_after (presence checks a lone one
    against its own default of the other)."""
    if warn_after is not None:
        check_seconds("warn_after", warn_after)
    if expire_after is not None:
        check_seconds("expire_after", expire_after)
    if warn_after is not None and expire_after is not None and warn_after >= expire_after:
        raise ClaimsError(
            "warn_after", "is %d s, not less than expire_after (%d s); it must be less" % (warn_after, expire_after)
        )


def mint_token(
    secret: Secret,
    sid: str,
    *,
    uid: Optional[Union[str, int]] = None,
    warn_after: Optional[int] = None,
    expire_after: Optional[int] = None,
    logout_url: Optional[str] = None,
    end_at: Optional[int] = None,
    now: Optional[float] = None,
) -> str:
    """Returns a presence token for sid, signed with secret.

    The token is a gorilla/securecookie value, as docs/protocol.md's
    recipe makes it: base64url (with padding) of ts|b64(json)|mac, where mac is
    HMAC-SHA256(secret, "presence|" + ts + "|" + b64(json)).

    secret is presence's PRESENCE_SECRET (bytes, or str taken as UTF-8),
    at least 32 bytes. sid is 1 to 128 characters of [A-Za-z0-9._:-]; use
    session_id to derive one from a login session key. uid (a str, or an
    int such as a Django user's pk, written as a str) is at most 256 bytes.
    warn_after and expire_after are whole seconds that override presence's
    defaults for this session; when both are given 0 < warn_after <
    expire_after must hold (presence checks a lone one against its own
    defaults). logout_url is where tabs go on expiry. end_at is the
    session's absolute end, a Unix time in seconds: it ends then whatever
    the activity; give every token of a login the same one, computed at
    login (see lifetime_end). now is the Unix time to stamp (default: the
    current time).

    Raises ClaimsError for anything presence would refuse.
    """
    key = secret_bytes(secret)
    if len(key) < MIN_SECRET_LEN:
        raise ClaimsError("secret", "is %d bytes; it must be at least %d" % (len(key), MIN_SECRET_LEN))
    check_sid(sid)
    claims: Dict[str, Any] = {"sid": sid}
    if uid is not None:
        uid = check_uid(uid)
        if uid:
            claims["uid"] = uid
    check_limits(warn_after, expire_after)
    if warn_after is not None:
        claims["warn_after"] = warn_after
    if expire_after is not None:
        claims["expire_after"] = expire_after
    if logout_url is not None:
        if not isinstance(logout_url, str):
            raise ClaimsError("logout_url", "must be a str, not %s" % type(logout_url).__name__)
        n = _utf8_len("logout_url", logout_url)
        if n > MAX_LOGOUT_URL_LEN:
            raise ClaimsError("logout_url", "is %d bytes; it must be at most %d" % (n, MAX_LOGOUT_URL_LEN))
        for i, ch in enumerate(logout_url):
            if unicodedata.category(ch) == "Cc":
                raise ClaimsError("logout_url", "has a control character at %d; percent-encode it" % i)
        if logout_url:
            claims["logout_url"] = logout_url
    if end_at is not None:
        check_end_at(end_at)
        if end_at:
            claims["end_at"] = end_at

    body = json.dumps(claims, separators=(",", ":")).encode("ascii")
    value = base64.urlsafe_b64encode(body)
    ts = str(int(time.time() if now is None else now)).encode("ascii")
    mac = hmac.new(key, _COOKIE_NAME + b"|" + ts + b"|" + value, hashlib.sha256).digest()
    token = base64.urlsafe_b64encode(ts + b"|" + value + b"|" + mac).decode("ascii")
    if len(token) > MAX_TOKEN_LEN:
        raise ClaimsError("token", "would be %d bytes, over presence's %d; shorten logout_url or uid" % (len(token), MAX_TOKEN_LEN))
    return token


def session_id(secret: Secret, session_key: str) -> str:
    """Returns the presence session id of a login session.

    It is "p1-" + the first 32 hex digits of HMAC-SHA256(secret,
    session_key), as presence's Go helper backend.SessionID computes it:
    the same key always gives the same sid, and the sid (which page
    scripts can read in the token) reveals nothing of the key. Django
    cycles the session key at login, so every login gets a fresh sid.

    secret is the application's own (the Django glue uses
    PRESENCE_SID_SECRET, else SECRET_KEY), not presence's token secret.
    """
    if not isinstance(session_key, str) or not session_key:
        raise ValueError("presence: session_id needs a non-empty session key")
    key = secret_bytes(secret)
    if not key:
        raise ValueError("presence: session_id needs a non-empty secret")
    return "p1-" + hmac.new(key, session_key.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def lifetime_end(max_lifetime: Optional[int], now: Optional[float] = None) -> Optional[int]:
    """Returns the absolute end of a login that starts now (a Unix time,
    default the current time) and lives max_lifetime seconds at most, for
    its tokens' end_at and its registration; None when max_lifetime is
    None or 0 (no absolute end). Raises ClaimsError for a max_lifetime
    that is not a whole number of seconds from 1 s to 366 days."""
    if max_lifetime is None or max_lifetime == 0:
        return None
    check_seconds("max_lifetime", max_lifetime)
    return int(time.time() if now is None else now) + max_lifetime
