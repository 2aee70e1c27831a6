"""A client of presence's server API (docs/api.md), standard library only.

Client tells presence what the application saw (activity, logins,
logouts) and asks it about a session. Every call is bounded by a short
timeout and raises APIError when presence does not answer as it should;
Unreachable, a kind of APIError, means no answer at all. The application
never calls it on a request's path: the activity Sender does, from its
own thread.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional

from .tokens import check_sid

DEFAULT_TIMEOUT = 2.0  # seconds; presence answers on the same network
MAX_BATCH = 1000  # the most entries POST /api/v1/activity takes at once
_MAX_ANSWER = 1 << 20  # bytes of an answer read; a full batch's is ~80 KiB
USER_AGENT = "presence-python/1"


class APIError(Exception):
    """APIError is an answer of presence's API other than success.

    status is the HTTP status (0 when presence could not be reached);
    code is presence's error code ("bad_request", "unauthorized",
    "store_unavailable", ...) or "" when the answer was not presence's;
    index is the entry of a batch that a 400 names, else None;
    retry_after is the seconds a 503 asks to wait, else None; body is
    the answer's JSON object, {} when it had none.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        index: Optional[int] = None,
        retry_after: Optional[float] = None,
        body: Optional[Dict[str, Any]] = None,
    ) -> None:
        if status:
            super().__init__("presence API: %d%s: %s" % (status, " " + code if code else "", message))
        else:
            super().__init__("presence API unreachable: " + message)
        self.status = status
        self.code = code
        self.message = message
        self.index = index
        self.retry_after = retry_after
        self.body = body or {}


class Unreachable(APIError):
    """Unreachable means presence did not answer: refused, timed out, or
    cut off. timed_out tells a presence that hangs from one that is not
    there; reason is what the network said, without the request."""

    def __init__(self, message: str, *, timed_out: bool = False, reason: str = "") -> None:
        super().__init__(0, "unreachable", message)
        self.timed_out = timed_out
        self.reason = reason or message


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the API key to another address; presence's
    # API never redirects, so a 3xx is an error.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


class Client:
    """Client calls presence's server API. It is safe for concurrent use.

    base_url is presence's address as the application's servers reach it
    ("http://127.0.0.1:8765"); api_key is presence's -api-key. timeout
    bounds each network step of a call, in seconds.
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        u = urllib.parse.urlsplit(base_url or "")
        if u.scheme not in ("http", "https") or not u.netloc or u.query or u.fragment:
            raise ValueError("presence: the API URL %r must be an absolute http or https URL, such as "
                             "http://127.0.0.1:8765" % (base_url,))
        if not api_key or "\r" in api_key or "\n" in api_key:
            raise ValueError("presence: the API key must be the non-empty key presence runs with (-api-key)")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._auth = "Bearer " + api_key
        self._opener = urllib.request.build_opener(_NoRedirect)

    def activity(self, entries: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Reports a batch of activity: POST /api/v1/activity.

        Each entry is {"sid", "idle_s", "uid", "warn_after",
        "expire_after", "end_at"}, all but sid optional; an unknown sid is
        a login.
        Returns presence's view of each session, {"sid", "status",
        "expire_in_s"}, in the same order. A bad entry fails the whole
        batch: APIError with status 400 and the entry's index.
        """
        if len(entries) > MAX_BATCH:
            raise ValueError("presence: a batch holds at most %d entries, not %d" % (MAX_BATCH, len(entries)))
        answer = self._call("POST", "/api/v1/activity", {"sessions": entries})
        sessions = answer.get("sessions")
        if not isinstance(sessions, list) or len(sessions) != len(entries):
            raise APIError(200, "", "the answer does not hold one session per entry")
        return sessions

    def session(self, sid: str) -> Dict[str, Any]:
        """Returns presence's view of sid: {"sid", "status", "idle_s",
        "tabs", "sockets", "expire_in_s"}, and "ends_at" for a session
        with an absolute end; status "unknown" when presence never heard
        of it."""
        check_sid(sid)
        try:
            return self._call("GET", "/api/v1/sessions/" + sid, None)
        except APIError as e:
            if e.status == 404 and e.body.get("status") == "unknown":
                return e.body
            raise

    def session_activity(self, sid: str, **members: Any) -> Dict[str, Any]:
        """Reports activity of one session: POST
        /api/v1/sessions/{sid}/activity with the given members (idle_s,
        uid, warn_after, expire_after). Returns the session."""
        check_sid(sid)
        return self._call("POST", "/api/v1/sessions/%s/activity" % sid, members)

    def logout(self, sid: str, reason: str = "logout") -> Dict[str, Any]:
        """Ends sid now in every tab: POST /api/v1/sessions/{sid}/logout;
        reason is "logout" or "revoked". Returns the session."""
        check_sid(sid)
        return self._call("POST", "/api/v1/sessions/%s/logout" % sid, {"reason": reason})

    def _call(self, method: str, path: str, body: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", self._auth)
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", USER_AGENT)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return _decode(resp.status, resp.read(_MAX_ANSWER), resp.headers)
        except APIError:
            raise
        except urllib.error.HTTPError as e:
            with e:
                raw = e.read(_MAX_ANSWER)
            return _decode(e.code, raw, e.headers)
        except (OSError, ValueError) as e:
            # URLError, timeouts, resets; http.client's errors on a cut
            # answer are ValueErrors or OSErrors.
            reason = getattr(e, "reason", None) or e
            raise Unreachable("%s %s: %s" % (method, path, reason),
                              timed_out=isinstance(reason, socket.timeout), reason=str(reason)) from None
        except Exception as e:  # http.client.HTTPException and kin
            raise Unreachable("%s %s: %s" % (method, path, e), reason=str(e)) from None


def _decode(status: int, raw: bytes, headers: Any) -> Dict[str, Any]:
    """Returns a 200 answer's JSON object, or raises APIError for anything
    else."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    if status == 200 and isinstance(body, dict):
        return body
    obj = body if isinstance(body, dict) else {}
    err = obj.get("error")
    if isinstance(err, dict):
        index = err.get("index")
        raise APIError(
            status,
            str(err.get("code") or ""),
            str(err.get("message") or ""),
            index=index if isinstance(index, int) and not isinstance(index, bool) else None,
            retry_after=_retry_after(headers),
            body=obj,
        )
    text = raw[:120].decode("utf-8", "replace").strip()
    raise APIError(status, "", "the answer is not presence's: " + (text or "(empty)"),
                   retry_after=_retry_after(headers), body=obj)


def _retry_after(headers: Any) -> Optional[float]:
    """Retry-After in seconds, when it is a number (presence sends one)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
