"""The presence part of a page: its token, and whether its load counts.

page_context is what a template context processor returns; it takes the
cache and settings as parameters so that it works with any framework.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from .enforce import SID_PREFIX, authenticated_key, is_passive
from .tokens import Secret, mint_token, session_id


def page_context(
    request: Any,
    *,
    secret: Secret,
    sid_secret: Secret,
    cache: Any,
    url: str,
    ttl: int,
    warn_after: Optional[int] = None,
    expire_after: Optional[int] = None,
    logout_url: Optional[str] = None,
    end_at: Optional[int] = None,
    passive_urls: Sequence[str] = (),
    passive_url_names: Sequence[str] = (),
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """Returns the template context of one page: presence_token (empty
    for an anonymous request), presence_url and presence_passive.

    It mints a token, signed with secret (presence's), for the sid
    session_id(sid_secret, session key) names (uid = the user's pk), and
    stores presence:sid:<sid> -> session key in the cache for ttl
    seconds, so that the webhook receiver can delete the session when
    presence ends it. end_at, when given, is the login's absolute end
    (see tokens.lifetime_end). presence_passive is true for a path in passive_urls
    (exact, or a prefix ending in "*") or a view named in
    passive_url_names: the page load is then not activity, as
    django-session-security's PASSIVE_URLS.
    """
    ctx: Dict[str, Any] = {"presence_url": url.rstrip("/"), "presence_token": "", "presence_passive": False}
    key = authenticated_key(request)
    if key is None:
        return ctx
    sid = session_id(sid_secret, key)
    cache.set(SID_PREFIX + sid, key, ttl)
    pk = getattr(request.user, "pk", None)
    ctx["presence_token"] = mint_token(
        secret,
        sid,
        uid=None if pk is None else str(pk),
        warn_after=warn_after,
        expire_after=expire_after,
        logout_url=logout_url,
        end_at=end_at,
        now=now,
    )
    match = getattr(request, "resolver_match", None)
    ctx["presence_passive"] = is_passive(getattr(request, "path", ""), passive_urls) or (
        match is not None and getattr(match, "url_name", None) in passive_url_names
    )
    return ctx
