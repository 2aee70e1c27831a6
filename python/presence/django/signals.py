"""Logins and logouts, told to presence.

A login is registered with presence at once (queued, sent within a
second), so that a session whose pages never run presence.js (a script,
an API client, a browser with JavaScript off, a tab closed before it
connected) is still timed out and reported by the webhook. A logout ends
the session in every tab.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.cache import cache

from ..enforce import SID_PREFIX, is_ended
from ..tokens import session_id
from . import conf


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Registers the new session with presence, and remembers which
    session key its sid names, so that the webhook can delete it even if
    no page was ever rendered for it."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if not key:
        return
    sid = session_id(conf.sid_secret(), key)
    cache.set(SID_PREFIX + sid, key, conf.ended_ttl())
    request.session.pop(conf.END_AT_KEY, None)  # a new login has an end of its own
    end_at = conf.end_at(request)
    s = conf.sender()
    if s is not None:
        warn_after, expire_after = conf.limits()
        s.record(sid, uid=conf.uid(user), warn_after=warn_after, expire_after=expire_after, end_at=end_at)


def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Ends the session in every tab. Django sends the signal before it
    flushes the session, so the key is still there; a session presence
    already ended (PresenceMiddleware logging it out) is left alone."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    s = conf.sender()
    if not key or s is None:
        return
    sid = session_id(conf.sid_secret(), key)
    if not is_ended(cache, sid):
        s.logout(sid, "logout")


def connect() -> None:
    """Connects the receivers; connecting again changes nothing."""
    user_logged_in.connect(on_login, dispatch_uid="presence.django.on_login")
    user_logged_out.connect(on_logout, dispatch_uid="presence.django.on_logout")
