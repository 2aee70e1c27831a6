"""The script tag that starts presence.js in a page.

script_tag writes the tag every integration renders: the Django template
tag {% presence_script %} and the Flask template global presence_script().
The attributes are those presence.js reads (docs/client.md); every value is escaped here, so that templates can output the
tag as it is.
"""

from __future__ import annotations

import html
import re
from typing import Any, Mapping, Optional

_NAME_RE = re.compile(r"[a-z][a-z0-9-]*\Z")

LOGOUT_METHODS = ("get", "post")


def script_tag(
    url: str,
    token: str,
    *,
    logout_url: Optional[str] = None,
    logout_method: str = "get",
    csrf_token: Optional[str] = None,
    passive: bool = False,
    confirm_unload: bool = False,
    attrs: Optional[Mapping[str, Any]] = None,
) -> str:
    """Returns <script src="<url>/presence.js" defer data-...></script>, or
    "" when token is empty (an anonymous request has no session to watch).

    url is presence's address as browsers reach it; token is the page's
    token (mint_token). logout_url is where the tab goes once the session
    ended, by logout_method "get" (a navigation) or "post" (a form
    carrying csrf_token, for logout views that take POST only); without
    it the tab reloads. passive says this page's load is not activity;
    confirm_unload makes the tab ask before it unloads a form with unsaved
    changes. attrs are more data attributes, named without "data-"
    ("text-title": "Still there?", "require-button": True): True writes
    the bare attribute, False and None leave it out.
    """
    if not token:
        return ""
    method = (logout_method or "get").lower()
    if method not in LOGOUT_METHODS:
        raise ValueError("presence: logout_method must be 'get' or 'post', not %r" % (logout_method,))
    base = (url or "").rstrip("/")
    data = {"url": base or None, "token": token, "logout-url": logout_url or None}
    if logout_url and method == "post":
        data["logout-method"] = "post"
        data["csrf-token"] = csrf_token or None
    data["passive"] = bool(passive)
    data["confirm-unload"] = bool(confirm_unload)
    for name, value in (attrs or {}).items():
        name = name.replace("_", "-")
        if name.startswith("data-"):
            name = name[5:]
        if not _NAME_RE.match(name):
            raise ValueError("presence: %r is not a data attribute name (a-z, 0-9 and -)" % (name,))
        data[name] = value
    parts = ['<script src="%s" defer' % html.escape(base + "/presence.js", quote=True)]
    for name, value in data.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append("data-" + name)
        else:
            parts.append('data-%s="%s"' % (name, html.escape(str(value), quote=True)))
    return " ".join(parts) + "></script>"
