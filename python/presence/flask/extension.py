"""Presence, the Flask extension: presence.django's features for Flask."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any, Optional

from flask import current_app, jsonify, request, session, url_for
from markupsafe import Markup

from .. import checks
from ..api import Client
from ..enforce import ENDED_PREFIX, error_body, is_ended, is_passive, wants_json
from ..localcache import LocalCache
from ..script import script_tag
from ..sender import Sender
from ..tokens import lifetime_end, mint_token
from ..webhook import SIGNATURE_HEADER, handle_webhook
from .config import Config

log = logging.getLogger("presence")

SID_KEY = "_presence_sid"  # in flask.session: the presence session id of this login
UID_KEY = "_presence_uid"  # and its user id
END_AT_KEY = "_presence_end_at"  # and its absolute end, a Unix time (PRESENCE_MAX_LIFETIME)


class Presence:
    """Presence connects a Flask application to presence.

    Presence(app), or Presence() then init_app(app) in an application
    factory. Once the person has logged in, the login view calls
    presence.login(user_id); from then on:

    - the login is registered with presence at once (queued, sent within a
      second), so the session times out with or without a tab;
    - every request of the session whose path is not passive
      (PRESENCE_PASSIVE_URLS, PRESENCE_PASSIVE_ENDPOINTS) is activity,
      queued and sent by a background thread, never on the request's path;
    - a request of a session presence ended finds flask.session cleared,
      as a logout would leave it (a JSON or AJAX request gets 401);
    - templates have presence_script(), the script tag of presence.js;
    - presence's webhook is received at PRESENCE_WEBHOOK_PATH
      (/presence/webhook/).

    presence.logout() ends the session in every tab. cache records the
    ended sessions: any object with get, set and delete, shared by every
    process of the application (Flask-Caching's Cache), else a LocalCache
    of this process (docs/flask.md says what that leaves out).
    """

    def __init__(self, app: Any = None, *, cache: Any = None) -> None:
        self.cache = cache if cache is not None else LocalCache()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Reads app.config, raises RuntimeError naming every setting that
        is wrong (presence.E001: PRESENCE_SECRET is not set, ...), logs
        the warnings, among them a presence that does not answer, and
        installs the request hook, the webhook route and the template
        global."""
        config = Config(app.config)
        problems = checks.settings_problems(
            secret=config.secret, url=config.url, api_url=config.api_url, api_key=config.api_key,
            warn_after=config.warn_after, expire_after=config.expire_after,
            max_lifetime=config.max_lifetime) + config.problems()
        errors = [p for p in problems if p.level == "error"]
        if errors:
            raise RuntimeError("presence: the settings are wrong:\n" + "\n".join(str(p) for p in errors))
        if config.api_url and config.api_key:
            reach = checks.reachability_problem(config.api_url, config.api_key, config.api_timeout)
            if reach is not None:
                problems.append(reach)
        for p in problems:
            log.warning("presence: %s", p)
        app.extensions["presence"] = _State(self, config)
        app.before_request(self._before_request)
        app.add_url_rule(config.webhook_path, endpoint="presence_webhook", view_func=self._webhook,
                         methods=["POST"])
        csrf = app.extensions.get("csrf")  # Flask-WTF's CSRFProtect: the signature authenticates
        if csrf is not None and hasattr(csrf, "exempt"):
            csrf.exempt(self._webhook)
        app.add_template_global(self.script, "presence_script")

    # --- what the application calls ------------------------------------------

    def login(self, user_id: Any = None) -> str:
        """Starts a presence session for the person who just logged in and
        registers it with presence; returns its sid. Call it in the login
        view, after the application has put its own login in
        flask.session. Each login gets a fresh sid."""
        config = self._config()
        sid = "p1-" + secrets.token_hex(16)
        session[SID_KEY] = sid
        uid = None if user_id is None else str(user_id)
        if uid is not None:
            session[UID_KEY] = uid
        else:
            session.pop(UID_KEY, None)
        end_at = lifetime_end(config.max_lifetime)
        if end_at is not None:
            session[END_AT_KEY] = end_at
        else:
            session.pop(END_AT_KEY, None)
        s = self._sender()
        if s is not None:
            s.record(sid, uid=uid, warn_after=config.warn_after, expire_after=config.expire_after, end_at=end_at)
        return sid

    def logout(self) -> None:
        """Ends the request's presence session in every tab, and forgets it
        in flask.session. Call it in the logout view; it leaves the
        application's own keys of flask.session to the application."""
        sid = session.pop(SID_KEY, None)
        session.pop(UID_KEY, None)
        session.pop(END_AT_KEY, None)
        s = self._sender()
        if sid and s is not None and not is_ended(self.cache, sid):
            s.logout(sid, "logout")

    @property
    def sid(self) -> Optional[str]:
        """The presence session id of the request's login, or None."""
        return session.get(SID_KEY)

    def script(self, **attrs: Any) -> Markup:
        """The template global presence_script(): the script tag that
        starts presence.js for the request's session, or "" without one.
        Keyword arguments add or override data attributes for one page:
        presence_script(passive=True, csrf_token=csrf_token())."""
        sid = session.get(SID_KEY)
        if not sid:
            return Markup("")
        config = self._config()
        logout_url = self._logout_url(config)
        token = mint_token(config.secret, sid, uid=session.get(UID_KEY), warn_after=config.warn_after,
                           expire_after=config.expire_after, logout_url=logout_url,
                           end_at=session.get(END_AT_KEY))
        extra = dict(config.script_attrs)
        extra.update(attrs)
        csrf_token = extra.pop("csrf_token", None)
        return Markup(script_tag(config.url, token, logout_url=logout_url, logout_method=config.logout_method,
                                 csrf_token=csrf_token, passive=self._passive(config),
                                 confirm_unload=config.confirm_unload, attrs=extra))

    # --- the hooks -----------------------------------------------------------

    def _before_request(self) -> Any:
        sid = session.get(SID_KEY)
        if not sid:
            return None
        at = time.monotonic()
        config = self._config()
        end_at = session.get(END_AT_KEY)
        if end_at is not None and time.time() >= end_at:
            # The login's absolute end has passed: it is refused here even
            # while presence cannot say so.
            _record_expired(self.cache, sid, config.ended_ttl, "lifetime")
        if is_ended(self.cache, sid):
            session.clear()  # what a logout leaves: the views see nobody
            if wants_json(request.headers):
                return jsonify(error_body("session_ended", "the session ended; log in again")), 401
            return None
        s = self._sender()
        if s is not None and not self._passive(config):
            s.record(sid, at=at, uid=session.get(UID_KEY), warn_after=config.warn_after,
                     expire_after=config.expire_after, end_at=end_at)
        return None

    def _webhook(self) -> Any:
        config = self._config()
        status, payload = handle_webhook(
            request.method, request.get_data(cache=False), request.headers.get(SIGNATURE_HEADER),
            secrets=[config.secret] + config.old_secrets, cache=self.cache,
            # A cookie session has nothing on the server to delete: the
            # ended mark alone refuses it.
            delete_session=lambda key: None, ttl=config.ended_ttl)
        if payload is None:
            return "", status
        return jsonify(payload), status

    # --- helpers -------------------------------------------------------------

    def _config(self) -> Config:
        return _state().config

    def _passive(self, config: Config) -> bool:
        return is_passive(request.path, config.passive_urls) or request.endpoint in config.passive_endpoints

    def _logout_url(self, config: Config) -> Optional[str]:
        target = config.logout_target()
        if not target or "/" in target:
            return target
        try:
            return url_for(target)
        except Exception:  # werkzeug's BuildError: no such endpoint
            log.warning("presence: PRESENCE_LOGOUT_URL %r is neither a URL nor an endpoint; tabs reload", target)
            return None

    def _sender(self) -> Optional[Sender]:
        return _state().sender(self.cache)


class _State:
    """_State is what Presence keeps for one application, in
    app.extensions["presence"]: its settings and its Sender."""

    def __init__(self, presence: Presence, config: Config) -> None:
        self.presence = presence
        self.config = config
        self._lock = threading.Lock()
        self._sender: Optional[Sender] = None
        self._made = False

    def sender(self, cache: Any) -> Optional[Sender]:
        """The application's Sender, made at first use; None without
        PRESENCE_API_URL and PRESENCE_API_KEY."""
        with self._lock:
            if not self._made:
                c = self.config
                if c.api_url and c.api_key:
                    self._sender = Sender(Client(c.api_url, c.api_key, timeout=c.api_timeout),
                                          on_expired=lambda sid: _record_expired(cache, sid, c.ended_ttl))
                self._made = True
            return self._sender


def _state() -> _State:
    return current_app.extensions["presence"]  # type: ignore[no-any-return]


def _record_expired(cache: Any, sid: str, ttl: int, reason: str = "expired") -> None:
    """Records an end that an answer of presence's API reported, or that
    the login's absolute end says (reason "lifetime"), as the webhook
    would, so that the next request is refused even if the webhook is late
    or lost."""
    if cache.get(ENDED_PREFIX + sid) is None:
        cache.set(ENDED_PREFIX + sid, reason, ttl)
