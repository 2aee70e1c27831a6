import assert from "node:assert/strict";
import test from "node:test";
import { baseUrl } from "./address.js";
import { T0, Tab, TOKEN } from "./testkit.js";

const PAGE = "https://app.example/orders/42";

test("a base URL is used as it is, without a trailing slash", () => {
  for (const [url, base] of [
    ["https://presence.example", "https://presence.example"],
    ["https://presence.example/", "https://presence.example"],
    ["https://app.example/presence", "https://app.example/presence"],
    ["https://app.example/presence//", "https://app.example/presence"],
    ["http://127.0.0.1:8765", "http://127.0.0.1:8765"],
    // An http URL is a base, even one whose prefix is /ws.
    ["https://app.example/ws", "https://app.example/ws"],
  ]) {
    assert.equal(baseUrl(url, PAGE), base, url);
  }
});

test("a WebSocket URL gives the base it is under", () => {
  for (const [url, base] of [
    ["wss://presence.example/ws", "https://presence.example"],
    ["wss://presence.example/ws/", "https://presence.example"],
    ["ws://127.0.0.1:8765/ws", "http://127.0.0.1:8765"],
    ["ws://app.example/prefix/ws", "http://app.example/prefix"],
    ["wss://presence.example", "https://presence.example"],
    ["WSS://Presence.Example/ws", "https://presence.example"],
  ]) {
    assert.equal(baseUrl(url, PAGE), base, url);
  }
});

test("a relative URL resolves against the page", () => {
  assert.equal(baseUrl("/presence", PAGE), "https://app.example/presence");
  assert.equal(baseUrl("//presence.example/", PAGE), "https://presence.example");
  assert.equal(baseUrl("https://presence.example", "http://other.example/"), "https://presence.example");
});

test("a URL the client cannot use gives no base", () => {
  for (const url of [
    "https://",
    "http://[::1",
    "ftp://presence.example",
    "file:///etc/presence",
    "javascript:alert(1)",
    "https://presence.example/?x=1",
    "wss://presence.example/ws?token=abc",
    "https://presence.example/#top",
    "https://user:secret@presence.example",
  ]) {
    assert.equal(baseUrl(url, PAGE), "", url);
  }
});

test("a url the client cannot use is said once the page has the handle, then the tab goes by its own clock and asks nobody", () => {
  const tab = new Tab({ url: "ftp://presence.example", base: "" });
  assert.equal(tab.state.link, "refused");
  assert.deepEqual(tab.emitted(), [], "nothing is said before start returns the handle");
  assert.deepEqual(tab.of("connect"), []);
  assert.equal(tab.timer("ping"), 0);
  tab.send({ type: "timer", name: "ping" });
  assert.deepEqual(tab.emitted(), ["error", "connection:refused"]);
  const { code, message } = tab.of("emit")[0].detail;
  assert.equal(code, "url_invalid");
  assert.match(message, /cannot use the url option \(data-url\) ftp:\/\/presence\.example: /);
  assert.deepEqual(tab.logged(), ["error: " + message]);
  // The token's limits decide: the warning at 60 s, the cover at 120 s,
  // and neither a wake nor a fresh token nor the timers reach out.
  const reached = [];
  const step = (ms, event) => reached.push(...tab.after(ms, event).effects.filter(e => e.type == "connect" || e.type == "ask" || e.type == "log"));
  step(1e3, { type: "wake", online: true });
  step(1e3, { type: "token", token: TOKEN });
  for (let i = 0; i < 5; i++) step(tab.timer("ping") ?? 1e3, { type: "timer", name: "ping" });
  tab.ticks(T0 + 60e3 - tab.now);
  assert.equal(tab.state.status, "warned");
  tab.ticks(60e3);
  assert.equal(tab.state.status, "checking");
  step(1e3, { type: "wake", online: true });
  assert.deepEqual(reached, []);
  assert.deepEqual(tab.of("leave"), []);
  // Logging out still ends the page, here and now.
  tab.send({ type: "logout" });
  assert.equal(tab.state.status, "ended");
});
