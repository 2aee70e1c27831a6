"""presence_context: the page's token, for the template's script tag."""

from __future__ import annotations

from typing import Any, Dict

from django.core.cache import cache

from ..pages import page_context
from . import conf


def presence_context(request: Any) -> Dict[str, Any]:
    """presence_context is a template context processor giving every
    template presence_token, presence_url and presence_passive.

    Add "presence.django.presence_context" to TEMPLATES'
    context_processors, then load the client in the base template:

        {% if presence_token %}<script src="{{ presence_url }}/presence.js"
            data-url="{{ presence_url }}" data-token="{{ presence_token }}"
            data-logout-url="{% url 'logout' %}"{% if presence_passive %}
            data-passive{% endif %} defer></script>{% endif %}

    Settings: PRESENCE_SECRET, PRESENCE_URL, and optionally
    PRESENCE_SID_SECRET (default SECRET_KEY), PRESENCE_WARN_AFTER,
    PRESENCE_EXPIRE_AFTER (seconds), PRESENCE_LOGOUT_URL (a URL or URL
    name, put in the token), PRESENCE_PASSIVE_URLS,
    PRESENCE_PASSIVE_URL_NAMES and PRESENCE_TOKEN_MAX_AGE.
    """
    logout_url = conf.setting("PRESENCE_LOGOUT_URL")
    if logout_url:
        from django.shortcuts import resolve_url

        logout_url = str(resolve_url(logout_url))
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
        logout_url=logout_url or None,
        passive_urls=conf.setting("PRESENCE_PASSIVE_URLS", ()),
        passive_url_names=conf.setting("PRESENCE_PASSIVE_URL_NAMES", ()),
    )
