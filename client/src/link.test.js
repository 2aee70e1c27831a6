// The link: reconnects, the /ping fallback, and refused tokens.

import assert from "node:assert/strict";
import test from "node:test";
import { Tab } from "./testkit.js";

const closed = (code, wasOpen = false) => ({ type: "closed", code, wasOpen });

test("after a close the tab is alone and retries with jittered backoff, reset by an open", () => {
  const tab = new Tab().open();
  tab.after(1e3, closed(1012, true));
  assert.equal(tab.state.status, "alone");
  assert.deepEqual(tab.emitted(), ["connection:closed"]);
  assert.equal(tab.timer("reconnect"), 250); // jitter 0.5 × 0.5 s
  tab.after(250, { type: "timer", name: "reconnect" });
  assert.equal(tab.state.status, "connecting");
  assert.equal(tab.of("connect").length, 1);
  tab.after(100, closed(1006));
  assert.equal(tab.timer("reconnect"), 500);
  tab.after(500, { type: "timer", name: "reconnect" }).after(100, closed(1006));
  assert.equal(tab.timer("reconnect"), 1000);
  tab.after(1e3, { type: "timer", name: "reconnect" }).after(100, { type: "opened", path: "/" }).after(100, closed(1012, true));
  assert.equal(tab.timer("reconnect"), 250, "an open resets the backoff");
});

test("three WebSockets in a row that never open fall back to /ping", () => {
  const tab = new Tab();
  for (let i = 0; i < 2; i++) tab.after(100, closed(1006)).after(tab.timer("reconnect"), { type: "timer", name: "reconnect" });
  tab.after(100, closed(1006));
  assert.equal(tab.state.status, "fallback");
  assert.deepEqual(tab.emitted(), ["connection:fallback"]);
  assert.deepEqual(tab.of("ask"), [{ type: "ask", idleFor: 1, token: tab.state.token }]);
  assert.equal(tab.timer("reconnect"), 60e3, "a WebSocket is tried again every minute");
  // 10 s idle: ask again when the warning is due.
  tab.after(30, { type: "answered", value: 10 });
  assert.equal(tab.timer("ping"), 50e3);
  assert.equal(tab.state.expiresAt, tab.now + 110e3);
  // 65 s idle: warn, and ask again when the end is due.
  tab.after(50e3, { type: "timer", name: "ping" }).after(30, { type: "answered", value: 65 });
  assert.equal(tab.state.status, "warned");
  assert.deepEqual(tab.emitted(), ["warn"]);
  assert.equal(tab.timer("ping"), 55e3);
  // Activity while warned asks at once; the answer hides the warning.
  tab.after(5e3, { type: "activity" });
  assert.deepEqual(tab.of("ask"), [{ type: "ask", idleFor: 0, token: tab.state.token }]);
  tab.after(30, { type: "answered", value: 0 });
  assert.equal(tab.state.status, "fallback");
  assert.deepEqual(tab.emitted(), ["active"]);
  // "logout" ends the page.
  tab.after(60e3, { type: "timer", name: "ping" }).after(30, { type: "answered", value: "logout" });
  assert.equal(tab.state.status, "ended");
  assert.equal(tab.of("leave")[0].reason, "idle");
});

test("a /ping asked while one is out is asked again once the answer is in", () => {
  const tab = new Tab({ transport: "ping" });
  assert.equal(tab.of("ask").length, 1);
  tab.after(100, { type: "extend" });
  assert.deepEqual(tab.of("ask"), [], "one question at a time");
  tab.after(100, { type: "answered", value: 0 });
  assert.equal(tab.of("ask").length, 1, "the answer to the old question is not the answer");
  tab.after(100, { type: "answered", value: 0 });
  assert.equal(tab.timer("ping"), 60e3);
});

test("a /ping with no usable answer is asked again with the backoff, never more than 5 s later", () => {
  const tab = new Tab({ transport: "ping" });
  tab.jitter = 1;
  const waits = [];
  for (let i = 0; i < 8; i++) {
    tab.after(100, { type: "answered", value: undefined });
    waits.push(tab.timer("ping"));
    tab.after(waits[i], { type: "timer", name: "ping" });
  }
  assert.deepEqual(waits, [500, 1e3, 2e3, 4e3, 5e3, 5e3, 5e3, 5e3]);
  assert.equal(tab.state.status, "fallback");
  // An answer resets the backoff.
  tab.after(100, { type: "answered", value: 0 }).after(60e3, { type: "timer", name: "ping" }).after(100, { type: "answered" });
  assert.equal(tab.timer("ping"), 500);
});

test("a WebSocket that opens on the fallback takes over", () => {
  const tab = new Tab();
  for (let i = 0; i < 3; i++) tab.after(100, closed(1006)).after(0, { type: "timer", name: "reconnect" });
  assert.equal(tab.state.status, "fallback");
  assert.equal(tab.of("connect").length, 1, "the minute's WebSocket try");
  tab.after(100, { type: "opened", path: "/" });
  assert.equal(tab.timer("ping"), null, "no more pings");
  assert.equal(tab.state.status, "connecting");
  tab.after(30, { type: "answered", value: 5 });
  assert.deepEqual(tab.effects, [], "a late /ping answer is ignored");
  tab.frame({ type: "state", status: "active", warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: 120e3 });
  assert.equal(tab.state.status, "live");
});

test("transport ping never opens a WebSocket, even when the browser comes online", () => {
  const tab = new Tab({ transport: "ping" });
  assert.equal(tab.state.status, "fallback");
  assert.deepEqual(tab.of("connect"), []);
  tab.after(100, { type: "answered", value: 0 }).after(100, { type: "wake", online: true });
  assert.deepEqual(tab.effects.map(e => e.type), ["timer", "ask"]);
  // On an automatic fallback, online tries the WebSocket too.
  const auto = new Tab();
  for (let i = 0; i < 3; i++) auto.after(100, closed(1006)).after(0, { type: "timer", name: "reconnect" });
  auto.after(100, closed(1006)).after(100, { type: "answered", value: 0 });
  assert.equal(auto.of("connect").length, 1, "the first answer after none tries the WebSocket at once");
  auto.after(100, closed(1006)).after(100, { type: "wake", online: true });
  assert.deepEqual(auto.effects.map(e => e.type), ["timer", "ask", "timer", "connect"]);
});

test("a refused token (4401) is refreshed once; then the refusal is said once and /ping asked with the backoff", () => {
  const tab = new Tab({ refreshToken: true }).after(100, { type: "frame", frame: { type: "error", code: "token_too_old", message: "session: token too old" } });
  tab.after(10, closed(4401, true));
  assert.deepEqual(tab.effects.map(e => e.type), ["refresh"]);
  assert.equal(tab.state.status, "alone");
  tab.after(100, { type: "token", token: "fresh" });
  assert.equal(tab.state.token, "fresh");
  assert.equal(tab.of("connect").length, 1);
  tab.after(100, { type: "frame", frame: { type: "error", code: "token_invalid", message: "session: token invalid" } }).after(10, closed(4401, true));
  assert.equal(tab.state.status, "refused");
  assert.equal(tab.state.view, "page", "a refusal leaves the page as it is");
  assert.deepEqual(tab.emitted(), ["error", "connection:refused"]);
  assert.equal(tab.of("emit")[0].detail.code, "token_invalid");
  assert.equal(tab.of("log").length, 1);
  assert.equal(tab.timer("ping"), 250);
  // No WebSocket with a refused token: /ping asks, and is refused again, silently.
  tab.after(250, { type: "timer", name: "ping" });
  assert.deepEqual(tab.effects.map(e => e.type), ["timer", "ask"]);
  tab.after(10, { type: "answered", refused: { status: 401, code: "token_invalid" } });
  assert.deepEqual(tab.emitted(), []);
  assert.deepEqual(tab.of("connect"), []);
  assert.equal(tab.timer("ping"), 500);
  // Without refreshToken, or when it fails, the refusal is at once.
  assert.equal(new Tab().after(100, closed(4401)).state.status, "refused");
  assert.equal(new Tab({ refreshToken: true }).after(100, closed(4401)).after(10, { type: "noToken" }).state.status, "refused");
});

test("a refused tab whose /ping answers again is in contact: the WebSocket opens with the token presence now takes", () => {
  const tab = new Tab().after(100, closed(4401, true));
  tab.after(250, { type: "timer", name: "ping" }).after(10, { type: "answered", value: 0 });
  assert.equal(tab.state.status, "fallback");
  assert.equal(tab.state.contact, true);
  assert.equal(tab.of("connect").length, 1);
  tab.open();
  assert.equal(tab.state.status, "live");
  // Presence's answer allows one more refresh, and another report.
  const again = new Tab({ refreshToken: true }).after(100, closed(4401)).after(100, { type: "token", token: "fresh" });
  again.open().after(60e3, { type: "frame", frame: { type: "warn", expire_in_ms: 60e3 } });
  again.after(1e3, closed(4401, true));
  assert.deepEqual(again.effects.map(e => e.type), ["refresh"], "a state frame came since the last refresh");
  again.after(100, { type: "noToken" });
  assert.equal(again.state.status, "warned", "a refusal keeps what shows");
  assert.equal(again.state.link, "refused");
});

test("4410 ends the page; every frame of presence is acted on", () => {
  assert.equal(new Tab().open().after(100, closed(4410, true)).state.status, "ended");
  const tab = new Tab().open();
  assert.deepEqual(tab.frame({ type: "ping" }).sent(), [{ type: "pong" }]);
  assert.deepEqual(tab.frame({ type: "error", code: "bad_frame", message: "?" }).effects, []);
});
