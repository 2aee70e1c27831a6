// Sleep, wake and skew: a tab's timers run late or not at all while a
// laptop sleeps or a tab sits in the background, and the browser's clock
// need not agree with presence's. The tab goes by its own clock and by
// the durations presence sends, never by how many timers fired.

import assert from "node:assert/strict";
import test from "node:test";
import { T0, Tab } from "./testkit.js";

const state = expireInMs => ({ type: "frame", frame: { type: "state", status: "active", warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: expireInMs } });

test("ticks on time change nothing while presence keeps talking", () => {
  const tab = new Tab().open();
  for (let i = 1; i <= 100; i++) {
    tab.after(1e3, { type: "tick" });
    assert.deepEqual(tab.effects, [], `tick ${i}`);
    if (i % 25 == 0) assert.deepEqual(tab.frame({ type: "ping" }).sent(), [{ type: "pong" }]);
  }
  assert.equal(tab.state.status, "live");
});

test("a tick that comes well past the deadline hides the content and asks presence", () => {
  const tab = new Tab().open(120e3);
  // The laptop slept through the warning and the end: one late tick.
  tab.after(121.5e3, { type: "tick" });
  assert.equal(tab.state.status, "checking");
  assert.equal(tab.state.view, "covered");
  assert.deepEqual(tab.effects.map(e => e.type), ["close", "timer", "connect"]);
  // presence says the session lives (activity in another browser): the page shows again.
  tab.after(80, { type: "opened", path: "/" }).after(40, state(90e3));
  assert.equal(tab.state.status, "live");
  assert.equal(tab.state.view, "page");
  assert.equal(tab.state.expiresAt, tab.now + 90e3);
});

test("a tick within a second of the deadline waits for presence's expire", () => {
  const tab = new Tab().open(120e3).after(60e3, { type: "frame", frame: { type: "ping" } });
  tab.after(60.9e3, { type: "tick" });
  assert.equal(tab.state.status, "live");
  assert.deepEqual(tab.effects, []);
});

test("a wake that finds the deadline past checks at once; the end comes with no warning", () => {
  const tab = new Tab().open(120e3);
  tab.after(120.1e3, { type: "wake" });
  assert.equal(tab.state.view, "covered");
  tab.after(50, { type: "opened", path: "/" }).after(30, { type: "frame", frame: { type: "expire", reason: "idle", redirect_url: "/bye" } });
  assert.equal(tab.state.status, "ended");
  assert.deepEqual(tab.emitted(), []);
  assert.equal(tab.of("leave")[0].reason, "idle");
});

test("while checking, only presence shows the page again", () => {
  const tab = new Tab().open(120e3).after(200e3, { type: "wake" });
  tab.after(10, { type: "tab", message: { k: "w", e: tab.now + 30e3 } });
  assert.equal(tab.state.view, "covered", "another tab's warning does not uncover the page");
  tab.after(10, { type: "tick" }).after(10, { type: "wake" });
  assert.equal(tab.state.view, "covered");
  assert.deepEqual(tab.of("connect"), [], "no second check while one is out");
});

test("a warning the laptop slept through: the countdown comes from the clock", () => {
  const tab = new Tab().open().after(60e3, { type: "frame", frame: { type: "warn", expire_in_ms: 60e3 } });
  const warnedAt = tab.now;
  // One tick, 45 s late: 15 s are left, not 59.
  tab.after(45e3, { type: "tick" });
  assert.equal(tab.state.status, "warned");
  assert.equal(tab.state.expiresAt - tab.now, 15e3);
  assert.equal(tab.state.expiresAt, warnedAt + 60e3);
});

test("sleep through a warning, presence still warning: the page is told once", () => {
  const tab = new Tab().open().after(60e3, { type: "frame", frame: { type: "warn", expire_in_ms: 60e3 } });
  tab.after(61.5e3, { type: "tick" });
  assert.equal(tab.state.view, "covered");
  // Another browser was active: presence warns anew, ending later.
  tab.after(50, { type: "opened", path: "/" }).after(30, { type: "frame", frame: { type: "state", status: "warning", warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: 30e3 } });
  assert.equal(tab.state.view, "dialog");
  assert.deepEqual(tab.emitted(), ["state"], "warn was emitted before the sleep, not again");
  tab.after(1e3, state(120e3));
  assert.deepEqual(tab.emitted(), ["state", "active"]);
});

test("a wake before the deadline reconnects a dropped link at once", () => {
  const tab = new Tab().open().after(1e3, { type: "closed", code: 1006, wasOpen: true });
  assert.equal(tab.state.status, "alone");
  tab.after(100, { type: "wake" });
  assert.equal(tab.timer("reconnect"), null, "the backoff is cancelled");
  assert.equal(tab.of("connect").length, 1);
  // Back from the back-forward cache: a new socket, even with one open.
  tab.after(100, { type: "opened", path: "/" }).after(100, { type: "wake", persisted: true });
  assert.deepEqual(tab.effects.map(e => e.type), ["close", "timer", "connect"]);
});

test("a socket silent for 70 s is dead", () => {
  const tab = new Tab().open(600e3);
  tab.after(69e3, { type: "tick" });
  assert.deepEqual(tab.effects, []);
  tab.after(2e3, { type: "tick" });
  assert.deepEqual(tab.effects.map(e => e.type), ["close", "timer", "connect"]);
  assert.equal(tab.state.status, "connecting");
});

test("skew: presence's durations count on this browser's clock, however far off it is", () => {
  // Browsers whose clocks are right, three hours fast and a week slow hear
  // the same words from presence and must do the same with them.
  for (const start of [T0, T0 + 3 * 3600e3, T0 - 7 * 86400e3]) {
    const tab = new Tab({}, 0, start);
    tab.after(300, { type: "opened", path: "/" });
    assert.equal(tab.sent()[0].idle_ms, 300);
    tab.after(40, state(45e3)).after(15e3, { type: "frame", frame: { type: "warn", expire_in_ms: 30e3 } });
    assert.equal(tab.state.expiresAt - tab.now, 30e3);
    tab.after(29e3, { type: "tick" });
    assert.equal(tab.state.status, "warned", "no early check");
    // The page's load counts as activity: the tab's own deadline is then.
    tab.after(start + 121.5e3 - tab.now, { type: "tick" });
    assert.equal(tab.state.status, "checking", "a check once the end is well past");
  }
});

test("another tab's clock reading a little ahead never makes idle time negative", () => {
  const tab = new Tab().open();
  tab.now += 1e3;
  tab.send({ type: "tab", message: { k: "a", t: tab.now + 80 } });
  tab.after(0, { type: "closed", code: 1012, wasOpen: true }).after(0, { type: "timer", name: "reconnect" });
  tab.send({ type: "opened", path: "/" });
  assert.equal(tab.sent()[0].idle_ms, 0);
});
