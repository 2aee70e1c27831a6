"""PresenceMiddleware: every request counts, and ended sessions are
refused, as django-session-security's middleware does."""

from __future__ import annotations

import time
from typing import Any, Callable

from django.conf import settings
from django.contrib.auth import logout
from django.core.cache import cache
from django.http import JsonResponse

from ..enforce import authenticated_key, error_body, is_ended, wants_json
from ..tokens import session_id
from . import conf, signals


class PresenceMiddleware:
    """PresenceMiddleware counts requests as activity and logs out the
    requests of sessions presence ended.

    Put it in MIDDLEWARE after SessionMiddleware and
    AuthenticationMiddleware, where SessionSecurityMiddleware was. For an
    authenticated request:

    - if presence ended its session (the webhook, or an answer of
      presence's API, recorded it in the cache), it calls
      django.contrib.auth.logout, so the view sees an anonymous user (and
      @login_required redirects to the login page); an AJAX or JSON
      request gets 401 instead, and so does one whose session the webhook
      already deleted (its cookie still names the ended session);
    - else, unless the path is passive, the request is activity of the
      session: queued in this process and sent to presence within a
      second by a background thread, with the user id and limits. No
      network call is made here, and an outage of presence neither fails
      nor slows the request.

    It costs one HMAC, one cache read and a dict update per authenticated
    request.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        # Connected here too, for projects that list the middleware but
        # not the app; connecting twice is harmless.
        signals.connect()

    def __call__(self, request: Any) -> Any:
        key = authenticated_key(request)
        if key is None:
            if wants_json(request.headers) and self.ended_cookie(request):
                return JsonResponse(error_body("session_ended", "the session ended; log in again"), status=401)
            return self.get_response(request)
        at = time.monotonic()
        sid = session_id(conf.sid_secret(), key)
        end_at = conf.end_at(request)
        if end_at is not None and time.time() >= end_at:
            # The login's absolute end has passed: it is refused here even
            # while presence cannot say so.
            conf.record_expired(sid, "lifetime")
        if is_ended(cache, sid):
            logout(request)
            if wants_json(request.headers):
                return JsonResponse(error_body("session_ended", "the session ended; log in again"), status=401)
            return self.get_response(request)
        sender = conf.sender()
        if sender is not None and not conf.is_passive_request(request):
            warn_after, expire_after = conf.limits()
            sender.record(sid, at=at, uid=conf.uid(request.user), warn_after=warn_after, expire_after=expire_after,
                          end_at=end_at)
        return self.get_response(request)

    @staticmethod
    def ended_cookie(request: Any) -> bool:
        """Reports whether the request's session cookie names a session
        presence ended: after the webhook deleted it, the request is
        anonymous, but a script waiting for 401 should still get one."""
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        return bool(key) and is_ended(cache, session_id(conf.sid_secret(), key))
