"""presence.flask's settings, read from app.config once, at init_app.

The names are the Django app's where they mean the same (docs/flask.md
has the table): PRESENCE_SECRET, PRESENCE_URL, PRESENCE_API_URL,
PRESENCE_API_KEY, PRESENCE_WARN_AFTER, PRESENCE_EXPIRE_AFTER,
PRESENCE_MAX_LIFETIME,
PRESENCE_PASSIVE_URLS, PRESENCE_REDIRECT_TO_LOGOUT, PRESENCE_LOGOUT_URL,
PRESENCE_LOGOUT_METHOD, PRESENCE_CONFIRM_UNLOAD, PRESENCE_SCRIPT_ATTRS,
PRESENCE_OLD_SECRETS, PRESENCE_TOKEN_MAX_AGE and PRESENCE_API_TIMEOUT;
Flask's own are PRESENCE_PASSIVE_ENDPOINTS (the counterpart of
PRESENCE_PASSIVE_URL_NAMES) and PRESENCE_WEBHOOK_PATH.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, List, Mapping, Optional

from ..api import DEFAULT_TIMEOUT
from ..checks import Problem
from ..script import LOGOUT_METHODS
from ..tokens import TOKEN_MAX_AGE, Secret

DEFAULT_WEBHOOK_PATH = "/presence/webhook/"


class Config:
    """Config holds the PRESENCE_* values of one Flask application, with
    their defaults filled in."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        get = config.get
        self.secret: Optional[Secret] = get("PRESENCE_SECRET")
        self.url: str = get("PRESENCE_URL") or ""
        self.api_url: Optional[str] = get("PRESENCE_API_URL")
        self.api_key: Optional[str] = get("PRESENCE_API_KEY")
        self.api_timeout = float(get("PRESENCE_API_TIMEOUT") or DEFAULT_TIMEOUT)
        self.warn_after: Optional[int] = get("PRESENCE_WARN_AFTER")
        self.expire_after: Optional[int] = get("PRESENCE_EXPIRE_AFTER")
        self.max_lifetime: Optional[int] = get("PRESENCE_MAX_LIFETIME")
        self.passive_urls = list(get("PRESENCE_PASSIVE_URLS") or ())
        self.passive_endpoints = list(get("PRESENCE_PASSIVE_ENDPOINTS") or ())
        self.redirect_to_logout = bool(get("PRESENCE_REDIRECT_TO_LOGOUT"))
        self.logout_url: Optional[str] = get("PRESENCE_LOGOUT_URL")
        self.logout_method = str(get("PRESENCE_LOGOUT_METHOD") or "get").lower()
        self.confirm_unload = bool(get("PRESENCE_CONFIRM_UNLOAD", True))
        self.script_attrs: Dict[str, Any] = dict(get("PRESENCE_SCRIPT_ATTRS") or {})
        self.webhook_path: str = get("PRESENCE_WEBHOOK_PATH") or DEFAULT_WEBHOOK_PATH
        self.old_secrets = _secrets(get("PRESENCE_OLD_SECRETS"))
        token_max_age = int(get("PRESENCE_TOKEN_MAX_AGE") or TOKEN_MAX_AGE)
        lifetime = get("PERMANENT_SESSION_LIFETIME") or 0
        if isinstance(lifetime, timedelta):
            lifetime = lifetime.total_seconds()
        # An end is remembered as long as a token stays valid and as long
        # as a session cookie may live, whichever is longer.
        self.ended_ttl = max(token_max_age, int(lifetime))

    def logout_target(self) -> Optional[str]:
        """PRESENCE_LOGOUT_URL, else the endpoint "logout" with
        PRESENCE_REDIRECT_TO_LOGOUT, else None (the tab reloads)."""
        return self.logout_url or ("logout" if self.redirect_to_logout else None)

    def problems(self) -> List[Problem]:
        """What only Flask's settings can get wrong; presence.checks says
        the rest."""
        out = []
        if self.logout_method not in LOGOUT_METHODS:
            out.append(Problem("error", "presence.E008", "PRESENCE_LOGOUT_METHOD is %r; it must be \"get\" or "
                                                         "\"post\"." % (self.logout_method,)))
        if not self.webhook_path.startswith("/"):
            out.append(Problem("error", "presence.E009", "PRESENCE_WEBHOOK_PATH %r must start with /."
                               % (self.webhook_path,)))
        return out


def _secrets(old: Any) -> List[Secret]:
    if not old:
        return []
    if isinstance(old, str):  # comma-separated, as presence's -old-secrets
        return [s.strip() for s in old.split(",") if s.strip()]
    return list(old)
