// The link to presence: the WebSocket first, the classic /ping where
// WebSockets cannot get through. These are the transitions for what the
// transports report; the transports themselves are in transports.js.

import { readClaims } from "./token.js";
import * as time from "./timeline.js";
import { effect, emit, enter, expire, localEnd, refuse, send, setLink, timer, uncover, unwarn, warn } from "./status.js";

// useToken adopts a token and the limits it names; a state frame's limits
// replace them later.
export function useToken(state, token) {
  state.token = token || "";
  state.claims = readClaims(state.token);
  state.limits = time.limitsOf(state.claims);
}

// connect opens a WebSocket now, unless one is open or opening.
export function connect(t) {
  const s = t.state;
  timer(t, "reconnect");
  if (s.socket != "none") return;
  s.socket = "opening";
  if (s.link != "fallback") setLink(t, "connecting");
  effect(t, "connect");
}

// reconnect asks presence again at once, on a new WebSocket or a /ping.
export function reconnect(t) {
  const s = t.state;
  if (s.link == "fallback") return ask(t);
  if (s.socket != "none") effect(t, "close");
  s.socket = "none";
  s.attempt = 0;
  connect(t);
}

// check hides the page content until presence says whether the session is
// still alive: the tab found its deadline past (the laptop slept, the
// background tab's timers were throttled).
export function check(t) {
  enter(t, "checking");
  reconnect(t);
}

// opened says hello with the browser's real idle time.
export function opened(t, event) {
  const s = t.state;
  s.socket = "open";
  s.attempt = s.failures = 0;
  s.heardAt = s.sentAt = t.at;
  const hello = { type: "hello", idle_ms: time.idleMs(t.at, s.lastActivity), path: event.path };
  if (s.token) hello.token = s.token;
  if (!s.greeted && s.options.passive) hello.passive = true; // this page's load is not activity
  s.greeted = true;
  send(t, hello);
  if (s.link == "fallback") timer(t, "ping");
  setLink(t, "connecting");
  emit(t, "connection", { status: "open", transport: "ws" });
}

// frame acts on a frame from presence: the server is the truth.
export function frame(t, { frame: f }) {
  const s = t.state;
  s.heardAt = t.at;
  if (f.type == "state") {
    s.heard = true;
    s.refreshed = false;
    s.limits = { warnMs: f.warn_after_ms, expireMs: f.expire_after_ms };
    setLink(t, "live");
    uncover(t);
    emit(t, "state", f);
    if (f.status == "warning") return warn(t, f.expire_in_ms);
    s.expiresAt = t.at + f.expire_in_ms;
    unwarn(t);
  } else if (f.type == "warn") warn(t, f.expire_in_ms);
  else if (f.type == "expire") expire(t, f);
  else if (f.type == "ping") send(t, { type: "pong" });
}

// closed decides what follows a closed WebSocket: the end (4410), a fresh
// token or the refusal (4401), or another try; after three WebSockets in a
// row that never opened, the classic /ping, with a WebSocket tried again
// every minute.
export function closed(t, { code, wasOpen }) {
  const s = t.state;
  s.socket = "none";
  if (code == 4410) return expire(t, localEnd(s, "idle"));
  if (code == 4401) {
    if (!s.options.refreshToken || s.refreshed) return refuse(t);
    s.refreshed = true;
    setLink(t, "alone");
    return effect(t, "refresh");
  }
  if (wasOpen) emit(t, "connection", { status: "closed", transport: "ws" });
  if (s.link == "fallback") return timer(t, "reconnect", time.SOCKET_RETRY_MS);
  if (!wasOpen && ++s.failures >= time.FAILURES_BEFORE_FALLBACK) {
    setLink(t, "fallback");
    emit(t, "connection", { status: "fallback", transport: "ping" });
    ask(t);
    return timer(t, "reconnect", time.SOCKET_RETRY_MS);
  }
  setLink(t, "alone");
  timer(t, "reconnect", time.reconnectMs(s.attempt++, t.jitter));
}

// token reconnects with the fresh token that refreshToken gave.
export function token(t, event) {
  useToken(t.state, event.token);
  connect(t);
}

// ask asks /ping how long the session has been idle; a question asked
// while one is out is asked again once the answer is in.
export function ask(t) {
  const s = t.state;
  timer(t, "ping");
  if (s.link != "fallback") return;
  if (s.asking) return void (s.askAgain = true);
  s.asking = true;
  effect(t, "ask", { idleFor: time.idleSeconds(t.at, s.lastActivity), token: s.token });
}

// answered acts on /ping's answer as django-session-security does, and
// asks again when the warning or the end is due.
export function answered(t, { value }) {
  const s = t.state;
  s.asking = false;
  if (s.link != "fallback") return;
  if (value == "logout") return expire(t, localEnd(s, "idle"));
  if (s.askAgain) {
    s.askAgain = false;
    return ask(t);
  }
  if (typeof value != "number") return timer(t, "ping", time.pingRetryMs(t.jitter));
  s.heard = true;
  uncover(t);
  const answer = time.readPing(value, s.limits, t.at);
  if (answer.warning) warn(t, answer.expireInMs);
  else unwarn(t);
  s.expiresAt = answer.expiresAt;
  timer(t, "ping", answer.askInMs);
}
