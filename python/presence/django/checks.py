"""System checks: what manage.py check says about presence's settings,
so that a site that misses a step hears it at startup rather than at
the first timeout."""

from __future__ import annotations

from typing import Any, List

from django.conf import settings
from django.core import checks

from ..api import Client
from ..tokens import MIN_SECRET_LEN, ClaimsError, check_limits, secret_bytes

_MIDDLEWARE = ("presence.django.PresenceMiddleware", "presence.django.middleware.PresenceMiddleware",
               "presence.PresenceMiddleware")


def check_settings(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    """Checks presence's settings; registered by the app's ready()."""
    out: List[checks.CheckMessage] = []
    secret = getattr(settings, "PRESENCE_SECRET", None)
    if not secret or len(secret_bytes(secret)) < MIN_SECRET_LEN:
        out.append(checks.Error(
            "PRESENCE_SECRET must be the secret presence runs with, at least %d bytes." % MIN_SECRET_LEN,
            hint='PRESENCE_SECRET = os.environ["PRESENCE_SECRET"]', id="presence.E001"))
    url, key = getattr(settings, "PRESENCE_API_URL", None), getattr(settings, "PRESENCE_API_KEY", None)
    if not url or not key:
        out.append(checks.Warning(
            "PRESENCE_API_URL or PRESENCE_API_KEY is not set: logins are not registered and requests do not "
            "count as activity, so a session whose pages run no JavaScript is never timed out, and a person "
            "working on pages without presence.js is logged out.",
            hint="Start presence with -api-key and set both (docs/django.md, step 2).", id="presence.W001"))
    else:
        try:
            Client(url, key)
        except ValueError as e:
            out.append(checks.Error(str(e), id="presence.E002"))
    try:
        check_limits(getattr(settings, "PRESENCE_WARN_AFTER", None), getattr(settings, "PRESENCE_EXPIRE_AFTER", None))
    except ClaimsError as e:
        out.append(checks.Error("PRESENCE_%s %s" % (e.field.upper(), e.problem), id="presence.E003"))
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    ours = [i for i, m in enumerate(middleware) if m in _MIDDLEWARE]
    auth = [i for i, m in enumerate(middleware) if m == "django.contrib.auth.middleware.AuthenticationMiddleware"]
    if not ours or (auth and ours[0] < auth[0]):
        out.append(checks.Error(
            "presence.django.PresenceMiddleware must be in MIDDLEWARE, after AuthenticationMiddleware.",
            id="presence.E004"))
    backend = (getattr(settings, "CACHES", {}).get("default") or {}).get("BACKEND", "")
    if backend.endswith(("locmem.LocMemCache", "dummy.DummyCache")):
        out.append(checks.Warning(
            "The default cache, %s, is not shared between processes: the webhook reaches one process, and "
            "the others would not refuse the ended session's requests." % backend.rsplit(".", 1)[-1],
            hint="Use the database cache (createcachetable), Memcached or, from Django 4.0, Redis "
                 "(docs/django.md, step 2). A lone runserver process may silence this with "
                 'SILENCED_SYSTEM_CHECKS = ["presence.W002"].', id="presence.W002"))
    return out


def register() -> None:
    checks.register(check_settings, "presence")
