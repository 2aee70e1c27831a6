"""presence's Django settings, read where they are used, and the
process's Sender.

Required: PRESENCE_SECRET (presence's secret), PRESENCE_URL (where
browsers reach presence), PRESENCE_API_URL and PRESENCE_API_KEY (where
this server reaches presence's API, and its key). Optional:
PRESENCE_WARN_AFTER and PRESENCE_EXPIRE_AFTER (seconds),
PRESENCE_PASSIVE_URLS, PRESENCE_PASSIVE_URL_NAMES,
PRESENCE_REDIRECT_TO_LOGOUT, PRESENCE_LOGOUT_URL, PRESENCE_LOGOUT_METHOD,
PRESENCE_CONFIRM_UNLOAD, PRESENCE_SCRIPT_ATTRS, PRESENCE_OLD_SECRETS,
PRESENCE_SID_SECRET (default SECRET_KEY), PRESENCE_TOKEN_MAX_AGE and
PRESENCE_API_TIMEOUT (seconds, default 2). docs/django.md has the table,
with the django-session-security setting each one replaces.
"""

from __future__ import annotations

import threading
from typing import Any, List, Optional, Union

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from ..api import DEFAULT_TIMEOUT, Client
from ..enforce import ENDED_PREFIX, authenticated_key, is_passive
from ..sender import Sender
from ..tokens import TOKEN_MAX_AGE, Secret, lifetime_end


def setting(name: str, default: Any = None) -> Any:
    return getattr(settings, name, default)


def secret() -> Secret:
    value = setting("PRESENCE_SECRET")
    if not value:
        raise ImproperlyConfigured("PRESENCE_SECRET is not set: give Django the secret presence runs with")
    return value  # type: ignore[no-any-return]


def sid_secret() -> Secret:
    """The secret sids are derived with: PRESENCE_SID_SECRET, else
    Django's SECRET_KEY."""
    return setting("PRESENCE_SID_SECRET") or setting("SECRET_KEY")  # type: ignore[no-any-return]


def old_secrets() -> List[Secret]:
    old = setting("PRESENCE_OLD_SECRETS") or []
    if isinstance(old, str):  # comma-separated, as presence's -old-secrets
        old = [s.strip() for s in old.split(",") if s.strip()]
    return list(old)


def ended_ttl() -> int:
    """How long an end (and a sid's session key) is remembered: as long as
    a token stays valid (PRESENCE_TOKEN_MAX_AGE, presence's -token-max-age
    in seconds) and as long as a Django session can live
    (SESSION_COOKIE_AGE), whichever is longer."""
    return max(int(setting("PRESENCE_TOKEN_MAX_AGE", TOKEN_MAX_AGE)), int(setting("SESSION_COOKIE_AGE", 0)))


def limits() -> "tuple[Optional[int], Optional[int]]":
    """PRESENCE_WARN_AFTER and PRESENCE_EXPIRE_AFTER: None means
    presence's own default."""
    return setting("PRESENCE_WARN_AFTER"), setting("PRESENCE_EXPIRE_AFTER")


def max_lifetime() -> Optional[int]:
    """PRESENCE_MAX_LIFETIME: the longest a login lives whatever the
    activity, in seconds; None (the default) for no absolute end."""
    return setting("PRESENCE_MAX_LIFETIME")


# END_AT_KEY is where a login's absolute end (a Unix time) is kept in its
# Django session, so that every token of the login carries the same one.
END_AT_KEY = "_presence_end_at"


def end_at(request: Any) -> Optional[int]:
    """The absolute end of the request's login: the one set at login, or,
    for a login from before PRESENCE_MAX_LIFETIME was set, one counted from
    now, kept for its later pages. None without PRESENCE_MAX_LIFETIME,
    and for an anonymous request, whose session it leaves alone."""
    if authenticated_key(request) is None:
        return None
    session = request.session
    end = session.get(END_AT_KEY)
    if end is None:
        end = lifetime_end(max_lifetime())
        if end is not None:
            session[END_AT_KEY] = end
    return end  # type: ignore[no-any-return]


def logout_url() -> Optional[str]:
    """Where tabs go once their session ended, or None for a reload.

    As django-session-security's REDIRECT_TO_LOGOUT: with
    PRESENCE_REDIRECT_TO_LOGOUT, the URL named "logout" unless
    PRESENCE_LOGOUT_URL names another; PRESENCE_LOGOUT_URL alone implies
    it. A URL name that does not resolve gives None (a reload, which the
    middleware refuses like any request of the ended session), and the
    system check presence.E007 reports it."""
    target = setting("PRESENCE_LOGOUT_URL") or ("logout" if setting("PRESENCE_REDIRECT_TO_LOGOUT") else None)
    if not target:
        return None
    from django.shortcuts import resolve_url
    from django.urls import NoReverseMatch

    try:
        return str(resolve_url(target))
    except NoReverseMatch:
        return None


def logout_method() -> str:
    """PRESENCE_LOGOUT_METHOD, "get" or "post": how tabs go to the logout
    URL. By default "post" from Django 4.1, whose LogoutView deprecates
    GET (5.0 refuses it), else "get"."""
    method = setting("PRESENCE_LOGOUT_METHOD")
    if method:
        return str(method).lower()
    import django

    return "post" if django.VERSION >= (4, 1) else "get"


def uid(user: Any) -> Optional[str]:
    pk = getattr(user, "pk", None)
    return None if pk is None else str(pk)


def is_passive_request(request: Any) -> bool:
    """Whether the request is not the person's doing: its path is in
    PRESENCE_PASSIVE_URLS (exact, or a prefix ending in "*") or its view's
    name in PRESENCE_PASSIVE_URL_NAMES, as django-session-security's
    PASSIVE_URLS and PASSIVE_URL_NAMES."""
    if is_passive(request.path, setting("PRESENCE_PASSIVE_URLS", ())):
        return True
    names = setting("PRESENCE_PASSIVE_URL_NAMES", ())
    if not names:
        return False
    from django.urls import Resolver404, resolve

    try:
        return resolve(request.path_info).url_name in names
    except Resolver404:
        return False


def api_timeout() -> float:
    """PRESENCE_API_TIMEOUT: how long a call to presence's API may wait,
    in seconds (default 2). Only the sender's thread and the system
    checks wait on it, never a request."""
    return float(setting("PRESENCE_API_TIMEOUT", DEFAULT_TIMEOUT))


_lock = threading.Lock()
_sender: Union[Sender, None, bool] = None  # False: not configured


def sender() -> Optional[Sender]:
    """The process's Sender, made at first use from PRESENCE_API_URL and
    PRESENCE_API_KEY; None when either is unset (the system check
    presence.W001 says what that leaves out)."""
    global _sender
    s = _sender
    if s is None:
        with _lock:
            if _sender is None:
                url, key = setting("PRESENCE_API_URL"), setting("PRESENCE_API_KEY")
                if url and key:
                    _sender = Sender(Client(url, key, timeout=api_timeout()), on_expired=record_expired)
                else:
                    _sender = False
            s = _sender
    return s or None


def record_expired(sid: str, reason: str = "expired") -> None:
    """Records the end of sid that an answer of presence's API reported,
    or that its login's absolute end says (reason "lifetime"), as the
    webhook would: the next request of the session is logged out even if
    the webhook is late or lost."""
    from django.core.cache import cache

    if cache.get(ENDED_PREFIX + sid) is None:
        cache.set(ENDED_PREFIX + sid, reason, ended_ttl())


@receiver(setting_changed)
def _reset_sender(setting: str, **kwargs: Any) -> None:
    # Tests that override the API's settings get a Sender for them.
    global _sender
    if setting in ("PRESENCE_API_URL", "PRESENCE_API_KEY", "PRESENCE_API_TIMEOUT"):
        with _lock:
            old, _sender = _sender, None
        if old:
            old.close()
