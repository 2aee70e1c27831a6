// Refusals and tokens: what presence refused is said once, with its fix;
// the newest token goes with every hello and /ping; no token problem
// makes the page leave.

import assert from "node:assert/strict";
import test from "node:test";
import { explain } from "./refusal.js";
import { BASE, ORIGIN, T0, Tab, tokenWith } from "./testkit.js";

const closed = (code, wasOpen = false) => ({ type: "closed", code, wasOpen });

// refusedOrigin is a tab whose origin presence refuses: three WebSockets
// that never open, then a /ping that the browser blocks for CORS while
// presence's own files still load.
function refusedOrigin() {
  const tab = new Tab().after(100, closed(1006));
  for (let i = 0; i < 2; i++) tab.after(tab.timer("reconnect"), { type: "timer", name: "reconnect" }).after(100, closed(1006));
  assert.equal(tab.state.link, "fallback");
  return tab.after(30, { type: "answered", refused: { status: 403, code: "origin_refused" } });
}

test("a refused origin is said once, on the console and as an error event, with the PRESENCE_ALLOWED_ORIGINS value", () => {
  const tab = refusedOrigin();
  assert.equal(tab.state.link, "refused");
  assert.deepEqual(tab.emitted(), ["error", "connection:refused"]);
  const { code, message } = tab.of("emit")[0].detail;
  assert.equal(code, "origin_refused");
  assert.ok(message.includes("PRESENCE_ALLOWED_ORIGINS=" + ORIGIN), message);
  assert.ok(message.includes(BASE), message);
  assert.deepEqual(tab.logged(), ["error: " + message]);
  assert.deepEqual(tab.of("emit")[1].detail, { status: "refused", transport: "ping" });
  // It keeps asking, with the backoff, and says nothing more.
  for (let i = 0; i < 5; i++) {
    const wait = tab.timer("ping");
    assert.ok(wait > 0 && wait <= 5e3, `wait ${wait}`);
    tab.after(wait, { type: "timer", name: "ping" }).after(30, { type: "answered", refused: { status: 403, code: "origin_refused" } });
    assert.deepEqual(tab.emitted(), []);
    assert.deepEqual(tab.logged(), []);
  }
});

test("a refused page goes by its own clock, and comes back once presence lets it in", () => {
  const tab = refusedOrigin();
  tab.ticks(T0 + 60e3 - tab.now);
  assert.equal(tab.state.status, "warned");
  tab.ticks(60e3);
  assert.equal(tab.state.status, "checking");
  assert.deepEqual(tab.of("leave"), []);
  // The origin was listed and presence restarted: the next /ping answers.
  tab.after(100, { type: "answered", value: 0 });
  assert.equal(tab.state.status, "fallback");
  assert.equal(tab.state.view, "page");
  assert.equal(tab.of("connect").length, 1);
  tab.open();
  assert.equal(tab.state.status, "live");
  // A later refusal is said again.
  tab.after(1e3, closed(1006, true));
  for (let i = 0; i < 3; i++) tab.after(tab.timer("reconnect"), { type: "timer", name: "reconnect" }).after(10, closed(1006));
  tab.after(30, { type: "answered", refused: { status: 403, code: "origin_refused" } });
  assert.deepEqual(tab.emitted(), ["error", "connection:refused"]);
});

test("a /ping refused for its token (401) calls refreshToken, and the fresh token goes with the next /ping", () => {
  const tab = new Tab({ transport: "ping", refreshToken: true });
  tab.after(30, { type: "answered", refused: { status: 401, code: "token_too_old", message: "session: token too old" } });
  assert.deepEqual(tab.effects.map(e => e.type), ["refresh"]);
  assert.equal(tab.state.status, "fallback");
  tab.after(100, { type: "token", token: "fresh" });
  assert.deepEqual(tab.of("ask"), [{ type: "ask", idleFor: 0, token: "fresh" }]);
  tab.after(30, { type: "answered", value: 0 });
  assert.equal(tab.state.contact, true);
  // refreshToken failing is no contact, with the refusal said.
  const failed = new Tab({ transport: "ping", refreshToken: true });
  failed.after(30, { type: "answered", refused: { status: 401, code: "token_too_old", message: "session: token too old" } }).after(10, { type: "noToken" });
  assert.equal(failed.state.link, "refused");
  assert.equal(failed.of("emit")[0].detail.code, "token_too_old");
});

test("without refreshToken a /ping 401 is no contact: the page stays, goes by its own clock, and never leaves", () => {
  const tab = new Tab({ transport: "ping" }).after(30, { type: "answered", refused: { status: 401, code: "token_invalid" } });
  assert.equal(tab.state.status, "refused");
  assert.equal(tab.state.contact, false);
  assert.deepEqual(tab.emitted(), ["error", "connection:refused"]);
  tab.ticks(200e3);
  for (let i = 0; i < 10; i++) tab.after(tab.timer("ping") ?? 1e3, { type: "timer", name: "ping" }).after(10, { type: "answered", refused: { status: 401, code: "token_invalid" } });
  assert.equal(tab.state.view, "covered");
  assert.deepEqual(tab.of("leave"), []);
});

test("a cross-site ping with the cookie says to pass the token", () => {
  const tab = new Tab({ transport: "ping", token: undefined }).after(30, { type: "answered", refused: { status: 403, code: "cross_site" } });
  assert.equal(tab.state.link, "refused");
  assert.match(tab.of("emit")[0].detail.message, /data-token/);
});

test("token frames replace the token for the next hello", () => {
  const fresh = tokenWith({ sid: "s1", warn_after: 60, expire_after: 120, logout_url: "/bye", n: 2 });
  const tab = new Tab().open().after(3e3, { type: "frame", frame: { type: "token", token: fresh } });
  assert.deepEqual(tab.effects, [], "nothing to do until it is needed");
  assert.equal(tab.state.token, fresh);
  tab.after(1e3, closed(1012, true)).after(250, { type: "timer", name: "reconnect" }).after(10, { type: "opened", path: "/" });
  assert.equal(tab.sent()[0].token, fresh);
});

test("explain names the cause and the fix of each refusal", () => {
  const where = { base: BASE, origin: ORIGIN, url: "ftp://presence.example" };
  for (const [code, want] of [
    ["origin_refused", /refuses this page's origin, https:\/\/app\.example: .*PRESENCE_ALLOWED_ORIGINS=https:\/\/app\.example/],
    ["cross_site", /cross-site ping.*data-token/],
    ["token_missing", /no token.*data-token.*presence cookie/],
    ["token_invalid", /PRESENCE_SECRET.*PRESENCE_OLD_SECRETS/],
    ["token_too_old", /PRESENCE_TOKEN_MAX_AGE.*refreshToken/],
    ["claims_invalid", /claims: warn_after must be below expire_after$/],
    ["url_invalid", /cannot use the url option \(data-url\) ftp:\/\/presence\.example: give presence's base URL, such as https:\/\/presence\.example\.com/],
    ["something_new", /^presence refuses this page: what presence said$/],
  ]) {
    const message = code == "something_new" ? "what presence said" : "warn_after must be below expire_after";
    assert.match(explain(code, where, message), want, code);
  }
  assert.match(explain("token_invalid", where), /^presence refuses the token/);
});
