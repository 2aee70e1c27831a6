// The link to presence: the WebSocket first, the classic /ping where
// WebSockets cannot get through or presence refused the page. These are
// the transitions for what the transports report; the transports
// themselves are in transports.js.
//
// The tab is in contact with presence while its WebSocket is live or its
// last /ping answered. Without contact it goes by its own clock (see
// machine.js) and tries again with a backoff capped at 5 s.

import { explain } from "./refusal.js";
import { useToken } from "./token.js";
import * as time from "./timeline.js";
import { effect, emit, expire, localEnd, log, send, setLink, timer, uncover, unwarn, warn } from "./status.js";

// pinging reports whether the tab asks /ping rather than a WebSocket: on
// the fallback, and once presence refused it, until a /ping answers.
export const pinging = state => state.link == "fallback" || state.link == "refused";

// hear records presence's word: contact, and a clean slate for refusals.
function hear(s) {
  s.heard = s.contact = true;
  s.refreshed = false;
  s.refusal = "";
}

// connect opens a WebSocket now, unless one is open or opening, or the
// url option cannot be used.
export function connect(t) {
  const s = t.state;
  timer(t, "reconnect");
  if (s.socket != "none" || !s.options.base) return;
  s.socket = "opening";
  if (!pinging(s)) setLink(t, "connecting");
  effect(t, "connect");
}

// reconnect asks presence again at once, on a new WebSocket or a /ping.
export function reconnect(t) {
  const s = t.state;
  if (pinging(s)) return ask(t);
  if (s.socket != "none") effect(t, "close");
  s.socket = "none";
  s.contact = false;
  s.attempt = 0;
  connect(t);
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
  if (pinging(s)) timer(t, "ping");
  setLink(t, "connecting");
  emit(t, "connection", { status: "open", transport: "ws" });
}

// frame acts on a frame from presence: the server is the truth.
export function frame(t, { frame: f }) {
  const s = t.state;
  s.heardAt = t.at;
  // An end that presence holds back (its grace after a restart) leaves a
  // covered page covered, whether it says state or warn, until a state
  // with time left or the expire that follows.
  const held = f.expire_in_ms <= 0 && s.status == "checking";
  if (f.type == "state") {
    hear(s);
    s.limits = s.stated = { warnMs: f.warn_after_ms, expireMs: f.expire_after_ms };
    setLink(t, "live");
    emit(t, "state", f);
    s.expiresAt = t.at + f.expire_in_ms;
    if (f.end_in_ms >= 0) s.endsAt = t.at + f.end_in_ms;
    if (held) return;
    uncover(t);
    if (f.status == "warning") return warn(t, f.expire_in_ms);
    unwarn(t);
  } else if (f.type == "warn" && !held) {
    if (f.kind == "lifetime") s.endsAt = t.at + f.expire_in_ms;
    warn(t, f.expire_in_ms);
  } else if (f.type == "expire") expire(t, f);
  else if (f.type == "ping") send(t, { type: "pong" });
  else if (f.type == "token") useToken(s, f.token);
  else if (f.type == "error") s.lastError = f;
}

// closed decides what follows a closed WebSocket: the end (4410), a fresh
// token or the refusal (4401), or another try; after three WebSockets in a
// row that never opened, the classic /ping, with a WebSocket tried again
// every minute.
export function closed(t, { code, wasOpen }) {
  const s = t.state;
  s.socket = "none";
  if (code == 4410) return expire(t, localEnd(s, "idle"));
  if (code == 4401) return tokenRefused(t, s.lastError);
  if (wasOpen) emit(t, "connection", { status: "closed", transport: "ws" });
  if (pinging(s)) return timer(t, "reconnect", time.SOCKET_RETRY_MS);
  s.contact = false;
  if (!wasOpen && ++s.failures >= time.FAILURES_BEFORE_FALLBACK) {
    setLink(t, "fallback");
    emit(t, "connection", { status: "fallback", transport: "ping" });
    ask(t);
    return timer(t, "reconnect", time.SOCKET_RETRY_MS);
  }
  setLink(t, "alone");
  timer(t, "reconnect", time.reconnectMs(s.attempt++, t.jitter));
}

// tokenRefused follows presence's refusal of the token (close 4401, or a
// /ping's 401): refreshToken, once since presence last answered, else the
// refusal. The page never leaves for its token.
function tokenRefused(t, error) {
  const s = t.state;
  s.contact = false;
  if (!s.options.refreshToken || s.refreshed) return refuse(t, error);
  s.refreshed = true;
  s.lastError = error;
  if (!pinging(s)) setLink(t, "alone");
  effect(t, "refresh");
}

// refuse says once, on the console and to the error listeners, what
// presence refused and how to fix it; the tab goes on by its own clock and
// asks /ping with the backoff, since a setting fixed, a session presence
// learns of or a fresh token lets it back in.
export function refuse(t, error = {}) {
  const s = t.state;
  const code = error.code || "token_invalid";
  s.contact = s.askAgain = false;
  setLink(t, "refused");
  timer(t, "reconnect");
  timer(t, "ping", time.reconnectMs(s.attempt++, t.jitter));
  if (s.refusal == code) return;
  s.refusal = code;
  const message = explain(code, s.options, error.message);
  log(t, "error", message);
  emit(t, "error", { code, message });
  emit(t, "connection", { status: "refused", transport: error.status ? "ping" : "ws" });
}

// token goes on with the fresh token that refreshToken gave.
export function token(t, event) {
  useToken(t.state, event.token);
  if (pinging(t.state)) ask(t);
  else connect(t);
}

// ask asks /ping how long the session has been idle; a question asked
// while one is out is asked again once the answer is in. Without a base
// URL there is nobody to ask: the url option is refused.
export function ask(t) {
  const s = t.state;
  timer(t, "ping");
  if (!pinging(s)) return;
  if (!s.options.base) return refuse(t, { code: "url_invalid" });
  if (s.asking) return void (s.askAgain = true);
  s.asking = true;
  effect(t, "ask", { idleFor: time.idleSeconds(t.at, s.lastActivity), token: s.token });
}

// answered acts on /ping's answer as django-session-security does, and
// asks again when the warning or the end is due. An answer after none
// tries the WebSocket again at once.
export function answered(t, { value, refused }) {
  const s = t.state;
  s.asking = false;
  if (!pinging(s)) return;
  if (value == "logout") return expire(t, localEnd(s, "idle"));
  if (refused) return refused.status == 401 ? tokenRefused(t, refused) : refuse(t, refused);
  if (s.askAgain) {
    s.askAgain = false;
    return ask(t);
  }
  if (typeof value != "number") {
    s.contact = false;
    return timer(t, "ping", time.reconnectMs(s.attempt++, t.jitter));
  }
  const back = !s.contact;
  hear(s);
  s.attempt = 0;
  if (s.link == "refused") setLink(t, "fallback");
  if (back && s.options.transport != "ping") connect(t);
  const answer = time.readPing(value, s.limits || time.DEFAULTS, t.at);
  s.expiresAt = answer.expiresAt;
  timer(t, "ping", answer.askInMs);
  if (answer.expireInMs <= 0 && s.status == "checking") return;
  uncover(t);
  if (answer.warning) warn(t, answer.expireInMs);
  else unwarn(t);
}
