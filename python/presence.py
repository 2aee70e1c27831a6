"""presence.py: the Python side of presence, standard library only.

Use mint_token to give a page a presence token, session_id to derive the
token's opaque session id from a login session key, and verify_webhook to
check a delivery of presence's expiry webhook. The module needs Python 3.8
or later and nothing else; it imports Django only inside the Django glue
at the end, so it imports and works without Django.

The Django glue replaces django-session-security (see docs/django.md):

- PresenceMiddleware logs out a request whose session presence has ended
  (the end is recorded in Django's cache by webhook_view), and answers
  AJAX and JSON requests of such a session with 401.
- webhook_view receives presence's webhook: it records the end and
  deletes the login session server side.
- presence_context is a template context processor that mints the page's
  token and remembers which login session the token's sid names.

The glue is thin: each piece reads settings and Django's cache, then calls
a function that takes the cache, the logout function and the session
deleter as parameters (check_request, handle_webhook, page_context), which
is what the tests exercise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import unicodedata
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, Union

__all__ = [
    "ClaimsError",
    "WebhookError",
    "mint_token",
    "session_id",
    "verify_webhook",
    "check_request",
    "handle_webhook",
    "page_context",
    "is_passive",
    "PresenceMiddleware",
    "webhook_view",
    "presence_context",
]

Secret = Union[bytes, str]

# The limits presence puts on a token, as session/claims.go and
# session/token.go do.
MIN_SECRET_LEN = 32
MAX_SID_LEN = 128
MAX_UID_LEN = 256  # bytes of UTF-8
MAX_LOGOUT_URL_LEN = 2048  # bytes of UTF-8
MAX_LIMIT_SECONDS = 366 * 24 * 3600
MAX_TOKEN_LEN = 4096
TOKEN_MAX_AGE = 12 * 3600  # presence's default -token-max-age, in seconds

# The webhook's signature header and presence's replay tolerance, as in
# webhook/sign.go.
SIGNATURE_HEADER = "Presence-Signature"
TOLERANCE = 300

_COOKIE_NAME = b"presence"  # the securecookie name bound into every MAC
_SID_RE = re.compile(r"[A-Za-z0-9._:-]+\Z")


class ClaimsError(ValueError):
    """ClaimsError reports a claim presence would refuse, and why.

    field is the claim's JSON name ("sid", "uid", "warn_after",
    "expire_after", "logout_url") or "secret" or "token".
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__("presence: %s %s" % (field, problem))
        self.field = field
        self.problem = problem


class WebhookError(ValueError):
    """WebhookError means a webhook delivery must be refused.

    code is one of "no_signature", "stale", "mismatch" or "bad_json"; the
    message says what exactly is wrong and never contains a secret.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__("presence webhook: " + message)
        self.code = code


def _secret_bytes(secret: Secret) -> bytes:
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


def _check_sid(sid: Any) -> None:
    if not isinstance(sid, str):
        raise ClaimsError("sid", "must be a str, not %s" % type(sid).__name__)
    if sid == "":
        raise ClaimsError("sid", "is missing; set it to an opaque id of the application's session")
    if len(sid) > MAX_SID_LEN:
        raise ClaimsError("sid", "is %d characters; it must be at most %d" % (len(sid), MAX_SID_LEN))
    if not _SID_RE.match(sid):
        bad = next(i for i, ch in enumerate(sid) if not _SID_RE.match(ch))
        raise ClaimsError("sid", "has %r at %d; it may hold only A-Z a-z 0-9 . _ : -" % (sid[bad], bad))


def _check_seconds(field: str, value: Any) -> int:
    # bool is an int in Python, but true is not a number of seconds.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ClaimsError(field, "must be a whole number of seconds, not %r" % (value,))
    if value <= 0:
        raise ClaimsError(field, "is %d; it must be a positive number of seconds, or None for presence's default" % value)
    if value > MAX_LIMIT_SECONDS:
        raise ClaimsError(field, "is %d s; it must be at most %d s (366 days)" % (value, MAX_LIMIT_SECONDS))
    return value


def mint_token(
    secret: Secret,
    sid: str,
    *,
    uid: Optional[Union[str, int]] = None,
    warn_after: Optional[int] = None,
    expire_after: Optional[int] = None,
    logout_url: Optional[str] = None,
    now: Optional[float] = None,
) -> str:
    """Returns a presence token for sid, signed with secret.

    The token is a gorilla/securecookie value, as the README's recipe
    makes it: base64url (with padding) of ts|b64(json)|mac, where mac is
    HMAC-SHA256(secret, "presence|" + ts + "|" + b64(json)).

    secret is presence's PRESENCE_SECRET (bytes, or str taken as UTF-8),
    at least 32 bytes. sid is 1 to 128 characters of [A-Za-z0-9._:-]; use
    session_id to derive one from a login session key. uid (a str, or an
    int such as a Django user's pk, written as a str) is at most 256 bytes.
    warn_after and expire_after are whole seconds that override presence's
    defaults for this session; when both are given 0 < warn_after <
    expire_after must hold (presence checks a lone one against its own
    defaults). logout_url is where tabs go on expiry. now is the Unix time
    to stamp (default: the current time).

    Raises ClaimsError for anything presence would refuse.
    """
    key = _secret_bytes(secret)
    if len(key) < MIN_SECRET_LEN:
        raise ClaimsError("secret", "is %d bytes; it must be at least %d" % (len(key), MIN_SECRET_LEN))
    _check_sid(sid)
    claims: Dict[str, Any] = {"sid": sid}
    if uid is not None:
        if isinstance(uid, int) and not isinstance(uid, bool):
            uid = str(uid)
        if not isinstance(uid, str):
            raise ClaimsError("uid", "must be a str or an int, not %s" % type(uid).__name__)
        n = _utf8_len("uid", uid)
        if n > MAX_UID_LEN:
            raise ClaimsError("uid", "is %d bytes; it must be at most %d" % (n, MAX_UID_LEN))
        if uid:
            claims["uid"] = uid
    if warn_after is not None:
        claims["warn_after"] = _check_seconds("warn_after", warn_after)
    if expire_after is not None:
        claims["expire_after"] = _check_seconds("expire_after", expire_after)
    if warn_after is not None and expire_after is not None and warn_after >= expire_after:
        raise ClaimsError(
            "warn_after", "is %d s, not less than expire_after (%d s); it must be less" % (warn_after, expire_after)
        )
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
    key = _secret_bytes(secret)
    if not key:
        raise ValueError("presence: session_id needs a non-empty secret")
    return "p1-" + hmac.new(key, session_key.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


_TS_RE = re.compile(r"[+-]?[0-9]+\Z")
_HEX_RE = re.compile(r"(?:[0-9A-Fa-f]{2})*\Z")


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
    "logout" or "revoked") and "at" (RFC 3339 UTC), or raises
    WebhookError whose code says what is wrong: "no_signature", "stale",
    "mismatch" or "bad_json".
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    body = bytes(body)
    if isinstance(secrets, (bytes, bytearray, memoryview, str)):
        keys = [_secret_bytes(secrets)]
    else:
        keys = [_secret_bytes(s) for s in secrets]
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
        _check_sid(event["sid"])
    except ClaimsError as e:
        raise WebhookError("bad_json", "body's sid is invalid: " + e.problem) from None
    return event


# ---------------------------------------------------------------------------
# Django integration. The functions below take the cache, logout and
# session deleter as parameters; the Django-facing pieces after them only
# gather those from Django and settings.

ENDED_PREFIX = "presence:ended:"  # cache key of an ended sid -> reason
SID_PREFIX = "presence:sid:"  # cache key of a sid -> Django session key


def is_passive(path: str, patterns: Sequence[str]) -> bool:
    """Reports whether path matches one of patterns: an exact path
    ("/poll/") or a prefix ending in "*" ("/live/*"), as presence's
    -passive-paths."""
    for p in patterns:
        if p.endswith("*"):
            if path.startswith(p[:-1]):
                return True
        elif path == p:
            return True
    return False


def wants_json(headers: Any) -> bool:
    """Reports whether a request is AJAX or asks for JSON rather than a
    page: X-Requested-With: XMLHttpRequest, or an Accept naming
    application/json but not text/html."""
    if (headers.get("X-Requested-With") or "") == "XMLHttpRequest":
        return True
    accept = (headers.get("Accept") or "").lower()
    return "application/json" in accept and "text/html" not in accept


def _authenticated_key(request: Any) -> Optional[str]:
    """The session key of an authenticated request, else None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    session = getattr(request, "session", None)
    return getattr(session, "session_key", None) or None


def check_request(request: Any, *, sid_secret: Secret, cache: Any, logout: Callable[[Any], None]) -> bool:
    """Logs request out if presence ended its session; returns whether it
    did.

    A session has ended when the cache holds presence:ended:<sid> for the
    sid session_id(sid_secret, key) derives from the request's session
    key. logout is django.contrib.auth.logout: it flushes the session, so
    the request (and the next one) is anonymous.
    """
    key = _authenticated_key(request)
    if key is None:
        return False
    if cache.get(ENDED_PREFIX + session_id(sid_secret, key)) is None:
        return False
    logout(request)
    return True


MAX_WEBHOOK_BODY = 64 << 10  # presence's deliveries are under 1 KiB


def _error(code: str, message: str) -> Dict[str, Any]:
    return {"error": {"code": code, "message": message}}


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
    then, when presence_context recorded which login session the sid
    names, that session is deleted with delete_session and the mapping
    dropped. The answers are those of presence's Go backend.WebhookHandler:
    204 when done; 405 to a method other than POST; 413 to a body over
    64 KiB; 401 to a missing, wrong or stale signature; 400 to a signed
    body that is not an event; 500 when delete_session raises, so that
    presence retries. Errors are {"error": {"code", "message"}}. Repeated
    deliveries (presence retries with the same Idempotency-Key) are
    harmless.
    """
    if method != "POST":
        return 405, _error("method_not_allowed", "the webhook takes POST only")
    if len(body) > MAX_WEBHOOK_BODY:
        return 413, _error("too_large", "the body is over 64 KiB")
    try:
        event = verify_webhook(body, signature_header, secrets, now=now)
    except WebhookError as e:
        if e.code == "bad_json":
            return 400, _error("bad_event", str(e))
        return 401, _error("bad_signature", str(e))
    sid = event["sid"]
    cache.set(ENDED_PREFIX + sid, event["reason"], ttl)
    session_key = cache.get(SID_PREFIX + sid)
    if session_key:
        try:
            delete_session(session_key)
        except Exception:
            return 500, _error("on_end_failed", "the login session could not be deleted; retry")
        cache.delete(SID_PREFIX + sid)
    return 204, None


def page_context(
    request: Any,
    *,
    secret: Secret,
    sid_secret: Secret,
    cache: Any,
    url: str,
    ttl: int,
    warn_after: Optional[int] = None,
    expire_after: Optional[int] = None,
    logout_url: Optional[str] = None,
    passive_urls: Sequence[str] = (),
    passive_url_names: Sequence[str] = (),
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """Returns the template context of one page: presence_token (empty
    for an anonymous request), presence_url and presence_passive.

    It mints a token, signed with secret (presence's), for the sid
    session_id(sid_secret, session key) names (uid = the user's pk), and
    stores presence:sid:<sid> -> session key in the cache for ttl
    seconds, so that webhook_view can delete the session when presence
    ends it. presence_passive is true for a path in passive_urls (exact,
    or a prefix ending in "*") or a view named in passive_url_names: the
    page load is then not activity, as django-session-security's
    PASSIVE_URLS.
    """
    ctx: Dict[str, Any] = {"presence_url": url.rstrip("/"), "presence_token": "", "presence_passive": False}
    key = _authenticated_key(request)
    if key is None:
        return ctx
    sid = session_id(sid_secret, key)
    cache.set(SID_PREFIX + sid, key, ttl)
    pk = getattr(request.user, "pk", None)
    ctx["presence_token"] = mint_token(
        secret,
        sid,
        uid=None if pk is None else str(pk),
        warn_after=warn_after,
        expire_after=expire_after,
        logout_url=logout_url,
        now=now,
    )
    match = getattr(request, "resolver_match", None)
    ctx["presence_passive"] = is_passive(getattr(request, "path", ""), passive_urls) or (
        match is not None and getattr(match, "url_name", None) in passive_url_names
    )
    return ctx


def _setting(name: str, default: Any = None) -> Any:
    from django.conf import settings

    return getattr(settings, name, default)


def _secret_setting() -> Secret:
    secret = _setting("PRESENCE_SECRET")
    if not secret:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("PRESENCE_SECRET is not set: give Django the secret presence runs with")
    return secret


def _sid_secret_setting() -> Secret:
    """The secret sids are derived with: PRESENCE_SID_SECRET, else
    Django's SECRET_KEY."""
    return _setting("PRESENCE_SID_SECRET") or _setting("SECRET_KEY")


def _old_secrets_setting() -> list:
    old = _setting("PRESENCE_OLD_SECRETS") or []
    if isinstance(old, str):  # comma-separated, as presence's -old-secrets
        old = [s.strip() for s in old.split(",") if s.strip()]
    return list(old)


def _ended_ttl() -> int:
    """How long an end is remembered: as long as a token stays valid
    (PRESENCE_TOKEN_MAX_AGE, presence's -token-max-age in seconds) and as
    long as a Django session can live (SESSION_COOKIE_AGE), whichever is
    longer."""
    return max(int(_setting("PRESENCE_TOKEN_MAX_AGE", TOKEN_MAX_AGE)), int(_setting("SESSION_COOKIE_AGE", 0)))


class PresenceMiddleware:
    """PresenceMiddleware logs out requests of sessions presence ended.

    Put it in MIDDLEWARE after SessionMiddleware and
    AuthenticationMiddleware, where SessionSecurityMiddleware was. For an
    authenticated request whose session presence has ended (webhook_view
    recorded it in the cache), it calls django.contrib.auth.logout, so
    the view sees an anonymous user (and @login_required redirects to the
    login page); an AJAX or JSON request gets 401 instead. Every other
    request passes through: presence, not the middleware, tracks activity.
    It costs one HMAC and one cache read per authenticated request.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.contrib.auth import logout
        from django.core.cache import cache

        if check_request(request, sid_secret=_sid_secret_setting(), cache=cache, logout=logout) and wants_json(
            request.headers
        ):
            from django.http import JsonResponse

            return JsonResponse(_error("session_ended", "the session ended; log in again"), status=401)
        return self.get_response(request)


def webhook_view(request: Any) -> Any:
    """webhook_view receives presence's expiry webhook (-webhook-url).

    It verifies the delivery with PRESENCE_SECRET and PRESENCE_OLD_SECRETS,
    records the end in the cache, and deletes the login session with the
    SESSION_ENGINE's SessionStore when presence_context recorded which
    session the sid names. It is exempt from CSRF: the signature
    authenticates the request. Answers as handle_webhook says.
    """
    from importlib import import_module

    from django.core.cache import cache
    from django.http import HttpResponse, JsonResponse

    engine = import_module(_setting("SESSION_ENGINE", "django.contrib.sessions.backends.db"))

    def delete_session(session_key: str) -> None:
        engine.SessionStore().delete(session_key)

    status, payload = handle_webhook(
        request.method,
        request.body,
        request.headers.get(SIGNATURE_HEADER),
        secrets=[_secret_setting()] + _old_secrets_setting(),
        cache=cache,
        delete_session=delete_session,
        ttl=_ended_ttl(),
    )
    if payload is None:
        return HttpResponse(status=status)
    return JsonResponse(payload, status=status)


# What django.views.decorators.csrf.csrf_exempt does, without importing
# Django at import time: CsrfViewMiddleware skips views marked so.
webhook_view.csrf_exempt = True  # type: ignore[attr-defined]


def presence_context(request: Any) -> Dict[str, Any]:
    """presence_context is a template context processor giving every
    template presence_token, presence_url and presence_passive.

    Add "presence.presence_context" to TEMPLATES' context_processors,
    then load the client in the base template:

        {% if presence_token %}<script src="{{ presence_url }}/presence.js"
            data-url="{{ presence_url }}" data-token="{{ presence_token }}"
            data-logout-url="{% url 'logout' %}"{% if presence_passive %}
            data-passive{% endif %} defer></script>{% endif %}

    Settings: PRESENCE_SECRET, PRESENCE_URL, and optionally
    PRESENCE_SID_SECRET (default SECRET_KEY),
    PRESENCE_WARN_AFTER, PRESENCE_EXPIRE_AFTER (seconds), PRESENCE_LOGOUT_URL
    (a URL or URL name, put in the token), PRESENCE_PASSIVE_URLS,
    PRESENCE_PASSIVE_URL_NAMES and PRESENCE_TOKEN_MAX_AGE.
    """
    from django.core.cache import cache

    logout_url = _setting("PRESENCE_LOGOUT_URL")
    if logout_url:
        from django.shortcuts import resolve_url

        logout_url = str(resolve_url(logout_url))
    return page_context(
        request,
        secret=_secret_setting(),
        sid_secret=_sid_secret_setting(),
        cache=cache,
        url=_setting("PRESENCE_URL", ""),
        ttl=_ended_ttl(),
        warn_after=_setting("PRESENCE_WARN_AFTER"),
        expire_after=_setting("PRESENCE_EXPIRE_AFTER"),
        logout_url=logout_url or None,
        passive_urls=_setting("PRESENCE_PASSIVE_URLS", ()),
        passive_url_names=_setting("PRESENCE_PASSIVE_URL_NAMES", ()),
    )
