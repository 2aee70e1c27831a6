"""Refusing the requests of sessions presence ended.

An end reaches the application once, through the webhook (or an answer of
the activity API), and is kept in the application's cache as
presence:ended:<sid>; every request of a logged-in session then looks its
sid up there, with no call to presence. The functions take the request,
cache and logout function as parameters, so that they work with any
framework's objects and with the tests' fakes.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence

from .tokens import Secret, session_id

ENDED_PREFIX = "presence:ended:"  # cache key of an ended sid -> reason
SID_PREFIX = "presence:sid:"  # cache key of a sid -> the login session key


def error_body(code: str, message: str) -> Dict[str, Any]:
    """The JSON body of an error answer: {"error": {"code", "message"}}."""
    return {"error": {"code": code, "message": message}}


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


def authenticated_key(request: Any) -> Optional[str]:
    """The session key of an authenticated request, else None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    session = getattr(request, "session", None)
    return getattr(session, "session_key", None) or None


def is_ended(cache: Any, sid: str) -> bool:
    """Reports whether the cache holds an end of sid."""
    return cache.get(ENDED_PREFIX + sid) is not None


def check_request(request: Any, *, sid_secret: Secret, cache: Any, logout: Callable[[Any], None]) -> bool:
    """Logs request out if presence ended its session; returns whether it
    did.

    A session has ended when the cache holds presence:ended:<sid> for the
    sid session_id(sid_secret, key) derives from the request's session
    key. logout is django.contrib.auth.logout: it flushes the session, so
    the request (and the next one) is anonymous.
    """
    key = authenticated_key(request)
    if key is None:
        return False
    if not is_ended(cache, session_id(sid_secret, key)):
        return False
    logout(request)
    return True
