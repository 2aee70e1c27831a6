import assert from "node:assert/strict";
import test from "node:test";
import { T0, Tab, tokenWith } from "./testkit.js";

test("a tab starts connecting, shares its load as activity and opens a WebSocket", () => {
  const tab = new Tab();
  assert.equal(tab.state.status, "connecting");
  assert.equal(tab.state.view, "page");
  assert.deepEqual(tab.effects.map(e => e.type), ["share", "timer", "connect"]);
  assert.equal(tab.of("share")[0].lastActivity, T0);
});

test("hello reports the browser's idle time; a passive page's load is not activity", () => {
  const passive = new Tab({ passive: true }, T0 - 30e3);
  assert.equal(passive.of("share").length, 0, "a passive load is not shared");
  passive.after(500, { type: "opened", path: "/dashboard" });
  assert.deepEqual(passive.sent(), [{ type: "hello", idle_ms: 30_500, path: "/dashboard", token: passive.state.token, passive: true }]);
  // The passive flag goes with the first hello only.
  passive.after(1000, { type: "closed", code: 1012, wasOpen: true }).after(1000, { type: "timer", name: "reconnect" });
  passive.send({ type: "opened", path: "/dashboard" });
  assert.equal(passive.sent()[0].passive, undefined);
  assert.equal(passive.sent()[0].idle_ms, 32_500);
  // A page that is not passive starts its idle time at its load.
  assert.equal(new Tab({}, T0 - 30e3).after(200, { type: "opened", path: "/" }).sent()[0].idle_ms, 200);
});

test("presence's state makes the tab live; warn shows the dialog and tells the page and the other tabs once", () => {
  const tab = new Tab().open();
  assert.equal(tab.state.status, "live");
  assert.deepEqual(tab.emitted(), ["state"]);
  tab.after(60e3, { type: "frame", frame: { type: "warn", expire_in_ms: 60e3, kind: "idle" } });
  assert.equal(tab.state.status, "warned");
  assert.equal(tab.state.view, "dialog");
  assert.equal(tab.state.expiresAt, tab.now + 60e3);
  assert.deepEqual(tab.emitted(), ["warn"]);
  assert.deepEqual(tab.of("emit")[0].detail, { expireInMs: 60e3, expiresAt: tab.now + 60e3 });
  assert.deepEqual(tab.of("post")[0].message, { k: "w", e: tab.now + 60e3 });
  // Said again (a state frame after a reconnect): the end moves, nobody is told twice.
  tab.after(1e3, { type: "frame", frame: { type: "state", status: "warning", warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: 58e3 } });
  assert.deepEqual(tab.emitted(), ["state"]);
  assert.equal(tab.of("post").length, 0);
  assert.equal(tab.state.expiresAt, tab.now + 58e3);
});

test("activity while warned goes out at once; presence's state hides the dialog", () => {
  const tab = new Tab().open().after(60e3, { type: "frame", frame: { type: "warn", expire_in_ms: 60e3 } });
  tab.after(5e3, { type: "activity" });
  assert.deepEqual(tab.sent(), [{ type: "activity", idle_ms: 0 }]);
  assert.equal(tab.state.status, "warned", "only presence hides the warning on activity");
  tab.after(40, { type: "frame", frame: { type: "state", status: "active", warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: 120e3 } });
  assert.equal(tab.state.status, "live");
  assert.equal(tab.state.view, "page");
  assert.deepEqual(tab.emitted(), ["state", "active"]);
  assert.deepEqual(tab.of("post")[0].message, { k: "s" });
});

test("activity goes out at once after a quiet spell, then at most every warn_after / 8", () => {
  const tab = new Tab().open(); // warn_after 60 s: at most every 7.5 s
  tab.after(1e3, { type: "activity" });
  assert.deepEqual(tab.sent(), []);
  assert.equal(tab.timer("flush"), 6.5e3);
  tab.after(1e3, { type: "activity" });
  assert.equal(tab.timer("flush"), undefined, "one report waits, not one per event");
  // The laptop slept: the timer fires 20 s late. The report says how long
  // ago the activity was by the clock, not by the timer.
  tab.after(24.5e3, { type: "timer", name: "flush" });
  assert.deepEqual(tab.sent(), [{ type: "activity", idle_ms: 24.5e3 }]);
  assert.equal(tab.of("share")[0].lastActivity, T0 + 2e3);
  tab.after(10e3, { type: "activity" });
  assert.deepEqual(tab.sent(), [{ type: "activity", idle_ms: 0 }]);
});

test("with requireButton only Stay signed in dismisses the warning", () => {
  const tab = new Tab({ requireButton: true }).open().after(60e3, { type: "frame", frame: { type: "warn", expire_in_ms: 60e3 } });
  const last = tab.state.lastActivity;
  tab.after(1e3, { type: "activity" });
  assert.deepEqual(tab.effects, []);
  assert.equal(tab.state.lastActivity, last);
  tab.after(1e3, { type: "extend" });
  assert.equal(tab.state.status, "live");
  assert.equal(tab.state.lastActivity, tab.now);
  assert.deepEqual(tab.sent(), [{ type: "extend" }]);
  assert.deepEqual(tab.emitted(), ["active"]);
  assert.deepEqual(tab.of("share")[0].lastActivity, tab.now);
});

test("logout waits 3 s for presence's expire, then ends the page itself", () => {
  const tab = new Tab().open();
  tab.after(1e3, { type: "logout" });
  assert.deepEqual(tab.sent(), [{ type: "logout" }]);
  assert.equal(tab.timer("logout"), 3e3);
  assert.equal(tab.state.status, "live");
  tab.after(3e3, { type: "timer", name: "logout" });
  assert.equal(tab.state.status, "ended");
  assert.deepEqual(tab.of("leave")[0], { type: "leave", reason: "logout", redirectUrl: "/bye", reload: true });
  // Without a socket there is nobody to wait for.
  const alone = new Tab().send({ type: "logout" });
  assert.equal(alone.state.status, "ended");
  assert.equal(alone.of("leave")[0].reason, "logout");
});

test("expire ends the page for good", () => {
  const tab = new Tab().open();
  tab.after(1e3, { type: "frame", frame: { type: "expire", reason: "revoked", redirect_url: "https://app.example/out" } });
  assert.equal(tab.state.status, "ended");
  assert.equal(tab.state.view, "ended");
  assert.deepEqual(tab.effects.map(e => e.type), ["halt", "post", "leave"]);
  assert.deepEqual(tab.of("post")[0].message, { k: "x", f: { type: "expire", reason: "revoked", redirect_url: "https://app.example/out" } });
  assert.deepEqual(tab.of("leave")[0], { type: "leave", reason: "revoked", redirectUrl: "https://app.example/out", reload: true });
  for (const event of [{ type: "activity" }, { type: "tick" }, { type: "frame", frame: { type: "warn", expire_in_ms: 1 } }, { type: "wake" }]) {
    const before = tab.state;
    tab.after(1e3, event);
    assert.deepEqual(tab.effects, [], event.type);
    assert.deepEqual(tab.state, before, event.type);
  }
  tab.send({ type: "stop" });
  assert.equal(tab.state.view, "gone");
});

test("a page that never heard from presence does not reload on a local end", () => {
  const tab = new Tab().send({ type: "closed", code: 4410, wasOpen: false });
  assert.deepEqual(tab.of("leave")[0], { type: "leave", reason: "idle", redirectUrl: "/bye", reload: false });
  const bare = new Tab({ token: tokenWith({ sid: "s2" }), logoutUrl: "/out" }).send({ type: "closed", code: 4410, wasOpen: true });
  assert.equal(bare.of("leave")[0].redirectUrl, "/out", "the logoutUrl option stands in for the token's");
});
