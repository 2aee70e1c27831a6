"""presence: the Python side of presence, standard library only.

Use mint_token to give a page a presence token, session_id to derive the
token's opaque session id from a login session key, and verify_webhook to
check a delivery of presence's expiry webhook. A Sender, around an API
Client, tells presence of logins and of the activity the application sees,
off the request path. The package needs Python 3.8 or later and nothing
else; "import presence" imports no framework.

presence.django replaces django-session-security (docs/django.md): an
app whose middleware counts every request as activity and refuses the
requests of ended sessions, with login and logout receivers, the webhook
view, the template tag {% presence_script %} and system checks.
presence.flask gives a Flask application the same (docs/flask.md). Their
old names here (presence.PresenceMiddleware, presence.webhook_view,
presence.presence_context) keep working and import Django only when first
used.

The modules, one concern each: tokens (minting, session ids), webhook
(verifying and handling deliveries), enforce (refusing ended sessions),
pages (a page's context), script (the script tag), checks (what is wrong
with the settings), api (the server API client), activity (the bounded
queue) and sender (the thread that sends it).
"""

from __future__ import annotations

from typing import Any

from .activity import ActivityQueue, Entry
from .api import APIError, Client, Unreachable
from .enforce import ENDED_PREFIX, SID_PREFIX, authenticated_key, check_request, is_passive, wants_json
from .pages import page_context
from .script import script_tag
from .sender import Sender
from .tokens import (
    MAX_LIMIT_SECONDS,
    MAX_LOGOUT_URL_LEN,
    MAX_SID_LEN,
    MAX_TOKEN_LEN,
    MAX_UID_LEN,
    MIN_SECRET_LEN,
    TOKEN_MAX_AGE,
    ClaimsError,
    Secret,
    lifetime_end,
    mint_token,
    session_id,
)
from .webhook import MAX_WEBHOOK_BODY, SIGNATURE_HEADER, TOLERANCE, WebhookError, handle_webhook, verify_webhook

__all__ = [
    "ClaimsError",
    "WebhookError",
    "APIError",
    "Unreachable",
    "Client",
    "Sender",
    "ActivityQueue",
    "Entry",
    "mint_token",
    "lifetime_end",
    "session_id",
    "verify_webhook",
    "check_request",
    "handle_webhook",
    "page_context",
    "script_tag",
    "is_passive",
    "wants_json",
    "PresenceMiddleware",
    "webhook_view",
    "presence_context",
]

# The Django pieces, by their names before presence.django existed. They
# are looked up on first use (PEP 562), so that importing presence never
# imports Django.
_DJANGO_NAMES = {
    "PresenceMiddleware": "presence.django.middleware",
    "webhook_view": "presence.django.views",
    "presence_context": "presence.django.context_processors",
}


def __getattr__(name: str) -> Any:
    module = _DJANGO_NAMES.get(name)
    if module is None:
        raise AttributeError("module 'presence' has no attribute %r" % name)
    from importlib import import_module

    return getattr(import_module(module), name)
