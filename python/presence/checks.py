"""What is wrong with an application's presence settings, said at start.

The Django app turns these into system checks (manage.py check) and the
Flask extension into an exception or a logged warning, so that a site
that missed a step hears it when it starts rather than at its first
timeout. Each Problem has the same id in both: presence.E001 is a
missing secret whatever the framework.
"""

from __future__ import annotations

from typing import Any, List, Optional

from .api import Client, APIError, Unreachable
from .tokens import MAX_LIMIT_SECONDS, MIN_SECRET_LEN, ClaimsError, check_limits, lifetime_end, secret_bytes

# presence's default -warn-after and -expire-after, for the limits a site
# leaves to presence.
DEFAULT_WARN_AFTER, DEFAULT_EXPIRE_AFTER = 540, 600

# A session id no application mints: asking presence about it reads
# nothing and starts nothing.
PROBE_SID = "presence-check"


class Problem:
    """Problem is one thing wrong with the settings.

    level is "error" (the integration cannot work: the site should not
    start) or "warning" (it works with less, or not yet); id is its
    stable name ("presence.E001"); msg says what is wrong and hint how
    to fix it.
    """

    __slots__ = ("level", "id", "msg", "hint")

    def __init__(self, level: str, id: str, msg: str, hint: str = "") -> None:
        self.level, self.id, self.msg, self.hint = level, id, msg, hint

    def __str__(self) -> str:
        return "%s: %s%s" % (self.id, self.msg, "\n\tHINT: " + self.hint if self.hint else "")

    def __repr__(self) -> str:
        return "Problem(%r, %r, %r)" % (self.level, self.id, self.msg)


def settings_problems(
    *,
    secret: Any,
    url: Any,
    api_url: Any,
    api_key: Any,
    warn_after: Any = None,
    expire_after: Any = None,
    max_lifetime: Any = None,
) -> List[Problem]:
    """Returns what is wrong with the settings every integration shares:
    PRESENCE_SECRET, PRESENCE_URL, PRESENCE_API_URL, PRESENCE_API_KEY,
    PRESENCE_WARN_AFTER, PRESENCE_EXPIRE_AFTER and PRESENCE_MAX_LIFETIME.
    No network call."""
    out: List[Problem] = []
    if not secret:
        out.append(Problem(
            "error", "presence.E001", "PRESENCE_SECRET is not set.",
            "Export PRESENCE_SECRET, the secret presence runs with, where the application starts, and read it "
            'in the settings: PRESENCE_SECRET = os.environ.get("PRESENCE_SECRET").'))
    else:
        try:
            n = len(secret_bytes(secret))
        except TypeError as e:
            out.append(Problem("error", "presence.E001", "PRESENCE_SECRET is not usable: %s." % e))
        else:
            if n < MIN_SECRET_LEN:
                out.append(Problem(
                    "error", "presence.E001",
                    "PRESENCE_SECRET is %d bytes; presence's secret is at least %d." % (n, MIN_SECRET_LEN),
                    'Set it to the secret presence runs with: PRESENCE_SECRET = os.environ.get("PRESENCE_SECRET").'))
    if not api_url or not api_key:
        out.append(Problem(
            "warning", "presence.W001",
            "PRESENCE_API_URL or PRESENCE_API_KEY is not set: logins are not registered and requests do not "
            "count as activity, so a session whose pages run no JavaScript is never timed out, and a person "
            "working on pages without presence.js is logged out.",
            "Start presence with -api-key and set both."))
    else:
        try:
            Client(api_url, "any-key")
        except ValueError:
            out.append(Problem(
                "error", "presence.E002", "PRESENCE_API_URL %r is not an absolute http or https URL." % (api_url,),
                'Set it to presence\'s address as this server reaches it, such as "http://127.0.0.1:8765".'))
        try:
            Client("http://presence", api_key)
        except ValueError:
            out.append(Problem(
                "error", "presence.E002", "PRESENCE_API_KEY is not a usable key.",
                "Set it to the key presence runs with (its -api-key), with no line break."))
    try:
        check_limits(warn_after, expire_after)
    except ClaimsError as e:
        out.append(Problem("error", "presence.E003", "PRESENCE_%s %s." % (e.field.upper(), e.problem)))
    if max_lifetime:
        try:
            lifetime_end(max_lifetime)
        except ClaimsError:
            out.append(Problem(
                "error", "presence.E010",
                "PRESENCE_MAX_LIFETIME is %r; it must be a whole number of seconds from 1 to %d (366 days), "
                "or None or 0 for no absolute end." % (max_lifetime, MAX_LIMIT_SECONDS),
                "Set it to the longest a login lives whatever the activity, such as 43200 for 12 hours."))
        else:
            lead = (expire_after or DEFAULT_EXPIRE_AFTER) - (warn_after or DEFAULT_WARN_AFTER)
            if isinstance(warn_after or 0, int) and isinstance(expire_after or 0, int) and max_lifetime <= lead:
                out.append(Problem(
                    "warning", "presence.W007",
                    "PRESENCE_MAX_LIFETIME is %d s, not more than expire_after - warn_after (%d s): the warning "
                    "of the end shows as soon as a person logs in." % (max_lifetime, lead),
                    "Give a login longer than the warning before its end."))
    if not url:
        out.append(Problem(
            "error", "presence.E006", "PRESENCE_URL is not set.",
            'Set it to presence\'s address as browsers reach it, such as "http://127.0.0.1:8765": '
            "the script tag loads presence.js from there."))
    return out


def reachability_problem(api_url: str, api_key: str, timeout: float) -> Optional[Problem]:
    """Asks presence's server API about a session no one has, and returns
    what its answer says is wrong: unreachable (presence.W003), or the key
    refused or no server API there (presence.W004). Both are warnings: a
    site may start before presence, and its logins and activity wait in
    each process until presence answers."""
    try:
        client = Client(api_url, api_key, timeout=timeout)
    except ValueError:
        return None  # settings_problems reports it
    try:
        client.session(PROBE_SID)
    except Unreachable as e:
        return Problem(
            "warning", "presence.W003",
            "presence is not reachable at PRESENCE_API_URL (%s): %s." % (client.base_url, e.reason.rstrip(".")),
            "Start presence, or correct PRESENCE_API_URL. Until presence answers, logins and activity wait "
            "in each process, and no session is timed out.")
    except APIError as e:
        if e.status == 401:
            return Problem(
                "warning", "presence.W004",
                "presence at PRESENCE_API_URL (%s) refused PRESENCE_API_KEY." % client.base_url,
                "Set PRESENCE_API_KEY to the key presence runs with (its -api-key or PRESENCE_API_KEY).")
        if e.status == 404:
            return Problem(
                "warning", "presence.W004",
                "presence at PRESENCE_API_URL (%s) has no server API." % client.base_url,
                "Start presence with -api-key (or PRESENCE_API_KEY in its environment), the key this application has.")
        if e.status == 503:
            return None  # presence is there; its store is not, and it says so itself
        return Problem(
            "warning", "presence.W003",
            "PRESENCE_API_URL (%s) does not answer as presence: %s." % (client.base_url, e),
            "Check that PRESENCE_API_URL is presence's address, not the site's own.")
    return None
