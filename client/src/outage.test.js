// Failing closed: a tab that cannot hear presence goes by the last limits
// it learned, on the browser's own idle time. It warns, then covers the
// page at the end, and keeps trying; it never leaves on its own, and
// presence's word decides once it answers again.

import assert from "node:assert/strict";
import test from "node:test";
import { T0, Tab, tokenWith } from "./testkit.js";

const closed = (code, wasOpen = false) => ({ type: "closed", code, wasOpen });
const state = (status, expireInMs, limits = [60e3, 120e3]) => ({
  type: "frame",
  frame: { type: "state", status, idle_ms: 0, warn_after_ms: limits[0], expire_after_ms: limits[1], expire_in_ms: expireInMs },
});

// killed is a tab whose presence went away without a close frame, 1 s
// after the page's load and its state frame.
const killed = options => new Tab(options).open().after(1e3, closed(1006, true));

test("presence gone: the tab warns, then covers the page by the token's limits, and never leaves", () => {
  const tab = killed();
  assert.equal(tab.state.status, "alone");
  assert.equal(tab.state.contact, false);
  tab.ticks(58e3);
  assert.equal(tab.state.status, "alone", "59 s idle: nothing yet");
  tab.ticks(1e3);
  assert.equal(tab.state.status, "warned", "60 s idle: warn_after");
  assert.equal(tab.state.view, "dialog");
  assert.deepEqual(tab.emitted(), ["warn"]);
  assert.deepEqual(tab.of("emit")[0].detail, { expireInMs: 60e3, expiresAt: tab.now + 60e3 });
  assert.deepEqual(tab.of("post"), [], "each tab warns by its own clock");
  tab.ticks(59e3);
  assert.equal(tab.state.status, "warned");
  tab.ticks(1e3);
  assert.equal(tab.state.status, "checking", "120 s idle: expire_after");
  assert.equal(tab.state.view, "covered");
  assert.equal(tab.of("connect").length, 1, "the cover asks presence at once");
  tab.ticks(3600e3);
  assert.equal(tab.state.view, "covered");
  assert.deepEqual(tab.of("leave"), [], "only presence's word makes the page leave");
});

test("a tab in contact leaves the warning to presence", () => {
  const tab = new Tab().open();
  for (let i = 0; i < 3; i++) tab.ticks(30e3).frame({ type: "ping" });
  assert.equal(tab.state.status, "live", "90 s idle, but presence knows of activity elsewhere");
});

test("during an outage activity counts as usual and puts the warning off; a covered page stays covered", () => {
  const tab = killed().ticks(59e3);
  assert.equal(tab.state.status, "warned");
  tab.after(500, { type: "activity" });
  assert.equal(tab.state.status, "alone");
  assert.deepEqual(tab.emitted(), ["active"]);
  assert.deepEqual(tab.of("share")[0].lastActivity, tab.now, "shared with the other tabs");
  const active = tab.now;
  tab.ticks(59e3);
  assert.equal(tab.state.status, "alone");
  tab.ticks(1e3);
  assert.equal(tab.state.status, "warned");
  assert.equal(tab.state.expiresAt, active + 120e3);
  tab.ticks(60e3);
  assert.equal(tab.state.status, "checking");
  const before = tab.state.lastActivity;
  tab.after(100, { type: "activity" });
  assert.deepEqual(tab.effects, [], "activity on a covered page neither counts nor uncovers");
  assert.equal(tab.state.lastActivity, before);
  const elsewhere = tab.now + 100;
  tab.after(100, { type: "tab", message: { k: "a", t: elsewhere } });
  assert.equal(tab.state.view, "covered", "nor does another tab's");
  assert.equal(tab.state.lastActivity, elsewhere, "which the next hello reports");
});

test("during an outage another tab's activity puts this tab's warning off", () => {
  const tab = killed().ticks(59e3);
  assert.equal(tab.state.status, "warned");
  tab.after(100, { type: "tab", message: { k: "a", t: tab.now - 50 } });
  assert.equal(tab.state.status, "alone");
  assert.deepEqual(tab.emitted(), ["active"]);
  assert.deepEqual(tab.of("post"), []);
});

test("the classic flow covers and uncovers alike: a /ping that answers again decides", () => {
  const tab = new Tab({ transport: "ping" }).after(100, { type: "answered", value: 0 });
  tab.after(1e3, { type: "timer", name: "ping" }).after(100, { type: "answered" });
  assert.equal(tab.state.contact, false);
  tab.ticks(119e3);
  assert.equal(tab.state.view, "covered");
  tab.after(100, { type: "answered", value: 3 });
  assert.equal(tab.state.view, "page", "presence knows of activity elsewhere: 3 s idle");
  assert.deepEqual(tab.of("connect"), [], "transport ping never opens a WebSocket");
  const ended = new Tab({ transport: "ping" }).after(100, { type: "answered" }).ticks(120e3).after(100, { type: "answered", value: "logout" });
  assert.equal(ended.state.status, "ended");
});

test("the local limits are the last state frame's, over the token's", () => {
  const tab = new Tab().send({ type: "opened", path: "/" }).send(state("active", 40e3, [30e3, 40e3])).after(1e3, closed(1006, true));
  tab.ticks(29e3);
  assert.equal(tab.state.status, "warned", "warn_after 30 s from presence, not the token's 60 s");
  tab.ticks(10e3);
  assert.equal(tab.state.status, "checking");
  // A fresh token does not bring the token's limits back.
  const fresh = new Tab().send({ type: "opened", path: "/" }).send(state("active", 40e3, [30e3, 40e3]));
  fresh.frame({ type: "token", token: tokenWith({ sid: "s1", warn_after: 60, expire_after: 120 }) });
  assert.deepEqual(fresh.state.limits, { warnMs: 30e3, expireMs: 40e3 });
});

test("a page that never reached presence goes by the token's limits, else data-warn-after and data-expire-after", () => {
  const tab = new Tab({ token: tokenWith({ sid: "s2" }), warnAfter: "5", expireAfter: "8" });
  tab.ticks(4e3);
  assert.equal(tab.state.status, "connecting");
  tab.ticks(1e3);
  assert.equal(tab.state.status, "warned");
  tab.ticks(3e3);
  assert.equal(tab.state.status, "checking");
  assert.deepEqual(tab.of("leave"), []);
});

test("without limits from anywhere, one console line says so and no deadline is set", () => {
  const tab = new Tab({ token: tokenWith({ sid: "s3" }) });
  tab.ticks(3e3);
  assert.deepEqual(tab.logged(), [], "not while the first WebSocket may still bring presence's limits");
  tab.send(closed(1006)).ticks(1e3);
  assert.equal(tab.logged().length, 1);
  assert.match(tab.logged()[0], /^warn: presence: no limits known .*data-warn-after and data-expire-after/);
  tab.ticks(24 * 3600e3);
  assert.deepEqual(tab.logged(), [], "said once");
  assert.equal(tab.state.status, "alone", "neither warned nor covered");
});

test("while presence cannot be heard, tries come at most 5 s apart, on the WebSocket and on /ping", () => {
  const tab = new Tab().open();
  tab.jitter = 1; // the longest waits
  tab.after(1e3, closed(1006, true));
  const waits = [tab.timer("reconnect")];
  for (let i = 0; i < 3; i++) {
    tab.after(waits.at(-1), { type: "timer", name: "reconnect" }).after(50, closed(1006));
    if (i < 2) waits.push(tab.timer("reconnect"));
  }
  assert.equal(tab.state.link, "fallback");
  assert.equal(tab.of("ask").length, 1, "the third WebSocket that never opened: /ping at once");
  for (let i = 0; i < 4; i++) {
    tab.after(30, { type: "answered" });
    waits.push(tab.timer("ping"));
    tab.after(waits.at(-1), { type: "timer", name: "ping" });
  }
  assert.deepEqual(waits, [500, 1e3, 2e3, 4e3, 5e3, 5e3, 5e3]);
  // Covered, it goes on at the same pace.
  tab.ticks(120e3).after(30, { type: "answered" }); // the one out when the cover asked again
  assert.equal(tab.state.view, "covered");
  assert.equal(tab.of("ask").length, 1);
  tab.after(30, { type: "answered" });
  assert.equal(tab.timer("ping"), 5e3);
});

test("an end that activity cannot move (lifetime) stays put during an outage", () => {
  const tab = new Tab().open().after(10e3, { type: "frame", frame: { type: "warn", expire_in_ms: 30e3, kind: "lifetime" } });
  const end = tab.now + 30e3;
  tab.after(1e3, closed(1006, true)).after(100, { type: "activity" });
  assert.equal(tab.state.status, "warned");
  tab.ticks(end - tab.now);
  assert.equal(tab.state.status, "checking");
  assert.equal(tab.now, end);
  assert.ok(tab.state.lastActivity > T0);
});
