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

// limitsOf returns the limits a token names, or presence's defaults
// (540 s and 600 s) for those it does not.
export function limitsOf(claims) {
  return { warnMs: (claims.warn_after || 540) * 1e3, expireMs: (claims.expire_after || 600) * 1e3 };
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
// the server's last word and the tab's own activity plus expire_after. Only
// a deadline already past makes the tab hide the page and ask presence.
export function deadline(serverExpiresAt, lastActivity, limits) {
  return Math.max(serverExpiresAt, lastActivity + limits.expireMs);
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

// reconnectMs is a full-jitter backoff: a random delay up to
// min(20 s, 0.5 s × 2^attempt); jitter is a number in [0, 1).
export function reconnectMs(attempt, jitter) {
  return jitter * Math.min(20e3, 500 * 2 ** attempt);
}

// pingRetryMs is the wait after a /ping that got no usable answer.
export function pingRetryMs(jitter) {
  return 5e3 + jitter * 5e3;
}

// readPing turns a /ping answer (seconds idle across the session's tabs)
// into what django-session-security's script did with it: warn or not,
// when the session ends, and when to ask again.
export function readPing(idle, limits, now) {
  const warnAfter = limits.warnMs / 1e3, expireAfter = limits.expireMs / 1e3;
  const expireInMs = (expireAfter - idle) * 1e3;
  return idle < warnAfter
    ? { warning: false, expireInMs, expiresAt: now + expireInMs, askInMs: (warnAfter - idle) * 1e3 }
    : { warning: true, expireInMs, expiresAt: now + expireInMs, askInMs: Math.max(1, expireAfter - idle) * 1e3 };
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
