"""webhook_view: presence's expiry webhook, received."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..webhook import SIGNATURE_HEADER, handle_webhook
from . import conf


@csrf_exempt
def webhook_view(request: Any) -> Any:
    """webhook_view receives presence's expiry webhook (-webhook-url).

    It verifies the delivery with PRESENCE_SECRET and PRESENCE_OLD_SECRETS,
    records the end in the cache, and deletes the login session with the
    SESSION_ENGINE's SessionStore when the login or a page recorded which
    session the sid names. It is exempt from CSRF: the signature
    authenticates the request. Answers as presence.handle_webhook says.
    """
    engine = import_module(conf.setting("SESSION_ENGINE", "django.contrib.sessions.backends.db"))

    def delete_session(session_key: str) -> None:
        engine.SessionStore().delete(session_key)

    status, payload = handle_webhook(
        request.method,
        request.body,
        request.headers.get(SIGNATURE_HEADER),
        secrets=[conf.secret()] + conf.old_secrets(),
        cache=cache,
        delete_session=delete_session,
        ttl=conf.ended_ttl(),
    )
    if payload is None:
        return HttpResponse(status=status)
    return JsonResponse(payload, status=status)
