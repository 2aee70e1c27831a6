"""{% load presence %}{% presence_script %}: presence.js in a page.

It replaces django-session-security's {% include
'session_security/all.html' %} and its jQuery: one tag in the base
template, rendering nothing for an anonymous request, as all.html did.
"""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.utils.safestring import mark_safe

from ..context_processors import presence_context
from ...script import script_tag
from .. import conf

register = template.Library()
log = logging.getLogger("presence")


@register.simple_tag(takes_context=True)
def presence_script(context: Any, **attrs: Any) -> str:
    """Renders the script tag that starts presence.js for the request's
    session: its token, PRESENCE_URL, the logout URL and method with the
    CSRF token a POST needs (PRESENCE_REDIRECT_TO_LOGOUT,
    PRESENCE_LOGOUT_URL, PRESENCE_LOGOUT_METHOD), data-passive on passive
    pages, data-confirm-unload (PRESENCE_CONFIRM_UNLOAD, on by default,
    as all.html's confirmFormDiscard), and PRESENCE_SCRIPT_ATTRS.
    Keyword arguments add or override data attributes for one template:
    {% presence_script text_title=title passive=True %}.

    It needs the request in the context
    (django.template.context_processors.request, which startproject
    enables; the system check presence.W005 says when it is missing).
    """
    request = context.get("request")
    if request is None:
        log.warning("presence: {%% presence_script %%} has no request in its context; "
                    "enable django.template.context_processors.request")
        return ""
    page = presence_context(request)
    token = page["presence_token"]
    if not token:
        return ""
    logout_url = conf.logout_url()
    method = conf.logout_method()
    csrf_token = None
    if logout_url and method == "post":
        from django.middleware.csrf import get_token

        csrf_token = get_token(request)  # also makes sure the CSRF cookie is set
    extra = dict(conf.setting("PRESENCE_SCRIPT_ATTRS") or {})
    extra.update(attrs)
    return mark_safe(script_tag(
        page["presence_url"],
        token,
        logout_url=logout_url,
        logout_method=method,
        csrf_token=csrf_token,
        passive=page["presence_passive"],
        confirm_unload=bool(conf.setting("PRESENCE_CONFIRM_UNLOAD", True)),
        attrs=extra,
    ))
