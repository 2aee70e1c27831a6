"""System checks: what manage.py check (and runserver, at start) says
about presence's setup, so that a site that misses a step hears it then
rather than at the first timeout.

Errors stop runserver and fail manage.py check; warnings do not. An
unreachable presence is a warning: a site may start before presence, and
what it reports waits until presence answers. docs/django.md lists every
message.
"""

from __future__ import annotations

from typing import Any, Iterable, List

from django.conf import settings
from django.core import checks

from .. import checks as core
from . import conf

AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
OUR_MIDDLEWARE = ("presence.django.PresenceMiddleware", "presence.django.middleware.PresenceMiddleware",
                  "presence.PresenceMiddleware")
REQUEST_PROCESSOR = "django.template.context_processors.request"


def _message(p: core.Problem) -> checks.CheckMessage:
    cls = checks.Error if p.level == "error" else checks.Warning
    return cls(p.msg, hint=p.hint or None, id=p.id)


def check_settings(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    """Checks the settings every integration shares (presence.checks),
    then the middleware, the cache and the logout settings."""
    warn_after, expire_after = conf.limits()
    out = [_message(p) for p in core.settings_problems(
        secret=conf.setting("PRESENCE_SECRET"),
        url=conf.setting("PRESENCE_URL"),
        api_url=conf.setting("PRESENCE_API_URL"),
        api_key=conf.setting("PRESENCE_API_KEY"),
        warn_after=warn_after,
        expire_after=expire_after,
        max_lifetime=conf.max_lifetime(),
    )]
    out += _check_middleware(list(getattr(settings, "MIDDLEWARE", None) or ()))
    backend = (getattr(settings, "CACHES", {}).get("default") or {}).get("BACKEND", "")
    # With DEBUG, runserver's one process is the norm: the warning is for
    # the settings that run behind gunicorn and kin.
    if backend.endswith(("locmem.LocMemCache", "dummy.DummyCache")) and not settings.DEBUG:
        out.append(checks.Warning(
            "The default cache, %s, is not shared between processes: the webhook reaches one process, and "
            "the others would not refuse the ended session's requests." % backend.rsplit(".", 1)[-1],
            hint="Use the database cache (createcachetable), Memcached or, from Django 4.0, Redis "
                 "(docs/django.md). A server of one process may silence this with "
                 'SILENCED_SYSTEM_CHECKS = ["presence.W002"].', id="presence.W002"))
    method = str(conf.setting("PRESENCE_LOGOUT_METHOD") or "get").lower()
    if method not in ("get", "post"):
        out.append(checks.Error("PRESENCE_LOGOUT_METHOD is %r; it must be \"get\" or \"post\"." % (method,),
                                id="presence.E008"))
    out += _check_templates(getattr(settings, "TEMPLATES", None) or [])
    return out


def _check_middleware(middleware: List[str]) -> List[checks.CheckMessage]:
    ours = [i for i, m in enumerate(middleware) if m in OUR_MIDDLEWARE]
    if not ours:
        return [checks.Error(
            "'presence.django.PresenceMiddleware' must be in MIDDLEWARE.",
            hint="Add it after '%s', where SessionSecurityMiddleware was." % AUTH_MIDDLEWARE, id="presence.E004")]
    auth = [i for i, m in enumerate(middleware) if m == AUTH_MIDDLEWARE]
    if auth and ours[0] < auth[0]:
        return [checks.Error(
            "'presence.django.PresenceMiddleware' must come after '%s' in MIDDLEWARE." % AUTH_MIDDLEWARE,
            hint="It reads request.user, which AuthenticationMiddleware sets.", id="presence.E005")]
    return []


def _check_templates(templates: Iterable[Any]) -> List[checks.CheckMessage]:
    django_templates = [t for t in templates
                        if t.get("BACKEND") == "django.template.backends.django.DjangoTemplates"]
    if django_templates and not any(REQUEST_PROCESSOR in (t.get("OPTIONS") or {}).get("context_processors", ())
                                    for t in django_templates):
        return [checks.Warning(
            "'%s' must be enabled in DjangoTemplates (TEMPLATES) in order to use {%% presence_script %%}."
            % REQUEST_PROCESSOR,
            hint="Without the request the tag renders nothing.", id="presence.W005")]
    return []


def check_urls(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    """Checks that the webhook is routed and the logout URL resolves.
    Django's own checks report a URLconf that does not import."""
    try:
        from django.urls import get_resolver

        from .views import webhook_view

        routed = _routes(get_resolver(), webhook_view)
    except Exception:
        return []
    out: List[checks.CheckMessage] = []
    if not routed:
        out.append(checks.Warning(
            "presence's webhook is not in the URLconf: sessions presence ends are not deleted, and "
            "their requests are refused only once this site reports activity for them.",
            hint='Add path("presence/", include("presence.django.urls")) to urlpatterns, and give presence '
                 "its address as -webhook-url.", id="presence.W006"))
    target = conf.setting("PRESENCE_LOGOUT_URL") or ("logout" if conf.setting("PRESENCE_REDIRECT_TO_LOGOUT") else None)
    if target and conf.logout_url() is None:
        if conf.setting("PRESENCE_LOGOUT_URL"):
            msg = "PRESENCE_LOGOUT_URL %r is neither a URL nor the name of one." % (target,)
        else:
            msg = "PRESENCE_REDIRECT_TO_LOGOUT is True, but no URL is named 'logout'."
        out.append(checks.Error(
            msg, hint="Name the logout view 'logout', or set PRESENCE_LOGOUT_URL to its URL or URL name "
                      "(\"admin:logout\" for the admin's).", id="presence.E007"))
    return out


def _routes(resolver: Any, view: Any) -> bool:
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            if _routes(pattern, view):
                return True
        elif getattr(pattern, "callback", None) is view:
            return True
    return False


def check_reachable(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    """Asks presence's API once, within PRESENCE_API_TIMEOUT: a warning
    when presence does not answer or refuses the key."""
    url, key = conf.setting("PRESENCE_API_URL"), conf.setting("PRESENCE_API_KEY")
    if not url or not key:
        return []
    p = core.reachability_problem(url, key, timeout=conf.api_timeout())
    return [_message(p)] if p is not None else []


def register() -> None:
    checks.register(check_settings, "presence")
    checks.register(check_urls, "presence", checks.Tags.urls)
    checks.register(check_reachable, "presence")
