// The arithmetic of a session's time. Everything here is pure: instants
// are milliseconds of the browser's clock (Date.now) handed in by the
// caller, never read here, so that tests can play sleep, wake and skew.
//
// The server speaks in durations (idle_ms, expire_in_ms), never in
// instants, so a browser whose clock is off by an hour still counts right:
// a duration becomes an instant of this browser's clock when it arrives.

// How long the client waits before it acts on its own.
export const DEAD_LINK_MS = 70e3; // silence on an open socket before a reconnect
export const LATE_MS = 1e3; // a deadline this far past on a tick means the tab slept
export const SOCKET_RETRY_MS = 60e3; // between WebSocket tries on the /ping fallback
export const FAILURES_BEFORE_FALLBACK = 3; // WebSockets that never opened, in a row
export const LOGOUT_WAIT_MS = 3e3; // for presence to answer a logout with expire
export const ANNOUNCE_AT = [60, 30, 10]; // seconds left that screen readers hear

// DEFAULTS are presence's default limits. The classic /ping flow reads its
// answers by them when nothing names the session's own; the tab never sets
// a deadline of its own by them.
export const DEFAULTS = { warnMs: 540e3, expireMs: 600e3 };

// knownLimits returns the limits the tab goes by when presence cannot be
// heard: the last state frame's (stated), else the token's claims, else
// the page's own (options.warnAfter and expireAfter, in seconds), each
// limit from the first that names it; or null when nothing names
// expire_after. A warn_after named nowhere, or not below expire_after,
// means no warning before the end.
export function knownLimits(stated, claims, options) {
  if (stated) return stated;
  const expire = claims.expire_after || +options.expireAfter || 0;
  const warn = claims.warn_after || +options.warnAfter || expire;
  return expire > 0 ? { warnMs: Math.min(warn, expire) * 1e3, expireMs: expire * 1e3 } : null;
}

// throttleMs is how often at most activity goes out: often enough that an
// active person is never warned, rarely enough to be cheap.
export function throttleMs(limits) {
  return Math.min(30e3, Math.max(1e3, limits.warnMs / 8));
}

// idleMs is how long ago the last activity was, never negative: another
// tab's clock reading may be a little ahead of this one's.
export function idleMs(now, lastActivity) {
  return Math.max(0, now - lastActivity);
}

// idleSeconds is the idleFor of a classic /ping: whole seconds, rounded down.
export function idleSeconds(now, lastActivity) {
  return Math.floor(idleMs(now, lastActivity) / 1e3);
}

// deadline is when the session ends as far as this tab knows: the later of
// the server's last word and the tab's own activity plus expire_after, but
// never after a fixed end (an absolute lifetime, which activity cannot
// move). Without limits, and before presence spoke (0), there is none.
export function deadline(serverExpiresAt, lastActivity, limits, fixedEnd) {
  const end = Math.max(serverExpiresAt, limits ? lastActivity + limits.expireMs : 0) || Infinity;
  return fixedEnd ? Math.min(fixedEnd, end) : end;
}

// localStatus is what the tab shows by its own clock while presence cannot
// be heard: the page covered ("checking") from the deadline end on, the
// warning from expire_after - warn_after before it, else the page.
export function localStatus(now, end, limits) {
  if (now >= end) return "checking";
  return limits && now >= end - limits.expireMs + limits.warnMs ? "warned" : "page";
}

// latestActivity merges another tab's last activity into this one's: the
// later wins, so a stale report never moves it backwards.
export function latestActivity(mine, theirs) {
  return theirs > mine ? theirs : mine;
}

// staleWarning reports whether another tab's warning is older than the
// activity this tab has seen: it warned before it heard of it.
export function staleWarning(now, lastActivity, limits) {
  return now - lastActivity < limits.warnMs - 250;
}

// RETRY_CAP_MS caps the wait between tries while presence cannot be heard:
// after presence starts it ends no session for idleness for a grace (8 s
// by default), so that every tab reports its person's idle time first.
export const RETRY_CAP_MS = 5e3;

// reconnectMs is a full-jitter backoff: a random delay up to
// min(5 s, 0.5 s × 2^attempt); jitter is a number in [0, 1).
export function reconnectMs(attempt, jitter) {
  return jitter * Math.min(RETRY_CAP_MS, 500 * 2 ** attempt);
}

// readPing turns a /ping answer (seconds idle across the session's tabs)
// into what django-session-security's script did with it: warn or not,
// when the session ends, and when to ask again.
export function readPing(idle, limits, now) {
  const warnAfter = limits.warnMs / 1e3, expireAfter = limits.expireMs / 1e3;
  const expireInMs = (expireAfter - idle) * 1e3, warning = idle >= warnAfter;
  return { warning, expireInMs, expiresAt: now + expireInMs, askInMs: (warning ? Math.max(1, expireAfter - idle) : warnAfter - idle) * 1e3 };
}

// countdown is what the dialog shows for msLeft: whole minutes while more
// than one is left, then seconds, rounded up so that 0 means the end.
export function countdown(msLeft) {
  const ms = Math.max(0, msLeft);
  return ms > 60e3 ? [Math.floor(ms / 60e3), "minute"] : [Math.ceil(ms / 1e3), "second"];
}

// announcement returns the step of ANNOUNCE_AT that secondsLeft has
// reached since the last one said (lastSaid), or 0: screen readers hear
// the countdown in coarse steps, not once a second.
export function announcement(secondsLeft, lastSaid) {
  let step = 0;
  for (const at of ANNOUNCE_AT) if (secondsLeft <= at && at < lastSaid) step = at;
  return step;
}
