"""presence_context: the page's token, for the template's script tag."""

from __future__ import annotations

from typing import Any, Dict

from django.core.cache import cache

from ..pages import page_context
from . import conf


def presence_context(request: Any) -> Dict[str, Any]:
    """presence_context is a template context processor giving every
    template presence_token, presence_url and presence_passive, for a page
    that writes its own script tag; {% presence_script %} renders the
    usual one without it.

    Add "presence.django.presence_context" to TEMPLATES'
    context_processors, then load the client in the base template:

        {% if presence_token %}<script src="{{ presence_url }}/presence.js"
            data-url="{{ presence_url }}" data-token="{{ presence_token }}"
            {% if presence_passive %}data-passive{% endif %} defer></script>
        {% endif %}

    The token carries the logout URL (presence.django.conf.logout_url),
    the limits, the login's absolute end (PRESENCE_MAX_LIFETIME) and the
    user's pk.
    """
    warn_after, expire_after = conf.limits()
    return page_context(
        request,
        secret=conf.secret(),
        sid_secret=conf.sid_secret(),
        cache=cache,
        url=conf.setting("PRESENCE_URL", ""),
        ttl=conf.ended_ttl(),
        warn_after=warn_after,
        expire_after=expire_after,
        logout_url=conf.logout_url(),
        end_at=conf.end_at(request),
        passive_urls=conf.setting("PRESENCE_PASSIVE_URLS", ()),
        passive_url_names=conf.setting("PRESENCE_PASSIVE_URL_NAMES", ()),
    )
