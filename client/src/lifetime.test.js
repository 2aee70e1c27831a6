// The absolute end: the warning that activity cannot lift, its "OK", and
// the end presence announces in the state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forEnd } from "./status.js";
import { T0, Tab, tokenWith } from "./testkit.js";

const lifetimeWarn = ms => ({ type: "frame", frame: { type: "warn", expire_in_ms: ms, kind: "lifetime" } });

test("a lifetime warning shows the dialog for the end, and activity does not lift it", () => {
  const tab = new Tab().open().after(1e3, lifetimeWarn(30e3));
  const end = tab.now + 30e3;
  assert.equal(tab.state.view, "dialog");
  assert.ok(forEnd(tab.state));
  assert.equal(tab.state.endsAt, end);
  tab.after(100, { type: "activity" });
  assert.equal(tab.state.view, "dialog");
});

test("OK hides the lifetime warning in this tab for good, sends no extend, and moves no end", () => {
  const tab = new Tab().open().after(1e3, lifetimeWarn(30e3));
  const end = tab.state.endsAt;
  tab.after(2e3, { type: "extend" });
  assert.equal(tab.state.view, "page");
  assert.deepEqual(tab.sent(), []);
  assert.deepEqual(tab.of("post"), [], "the other tabs keep their warning");
  assert.equal(tab.state.endsAt, end);
  // Presence's later word, another tab's warning, or the tab's own clock
  // bring it back no more.
  tab.frame({ type: "state", status: "warning", idle_ms: 0, warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: end - tab.now, end_in_ms: end - tab.now });
  assert.equal(tab.state.view, "page");
  tab.after(1e3, { type: "tab", message: { k: "w", e: end } });
  assert.equal(tab.state.view, "page");
  tab.after(10, { type: "frame", frame: { type: "expire", reason: "lifetime", redirect_url: "" } });
  assert.equal(tab.state.view, "ended");
});

test("an idle warning after an OK for the end still shows, with Stay signed in", () => {
  const tab = new Tab().open().after(1e3, { type: "frame", frame: { type: "state", status: "active", idle_ms: 0, warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: 120e3, end_in_ms: 600e3 } });
  assert.equal(tab.state.endsAt, tab.now + 600e3);
  tab.after(60e3, { type: "frame", frame: { type: "warn", expire_in_ms: 60e3, kind: "idle" } });
  assert.equal(tab.state.view, "dialog");
  assert.ok(!forEnd(tab.state));
  tab.after(1e3, { type: "extend" });
  assert.deepEqual(tab.sent(), [{ type: "extend" }]);
});

test("without contact, the tab covers itself at the end the state announced, however active", () => {
  const tab = new Tab().open().after(1e3, { type: "frame", frame: { type: "state", status: "active", idle_ms: 0, warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: 120e3, end_in_ms: 90e3 } });
  const end = tab.now + 90e3;
  tab.after(1e3, { type: "closed", code: 1006, wasOpen: true });
  while (tab.now < end - 1e3) tab.after(1e3, { type: "activity" }).send({ type: "tick" });
  assert.equal(tab.state.view, "dialog", "warned before the end, as presence would");
  tab.ticks(2e3);
  assert.equal(tab.state.view, "covered");
});

test("a tab that never reaches presence ends its page at the token's end_at, however active", () => {
  const token = tokenWith({ sid: "s1", warn_after: 60, expire_after: 120, end_at: (T0 + 90e3) / 1e3 });
  const tab = new Tab({ token });
  assert.equal(tab.state.endsAt, T0 + 90e3);
  tab.send({ type: "closed", code: 1006, wasOpen: false });
  while (tab.now < T0 + 89e3) tab.after(1e3, { type: "activity" }).send({ type: "tick" });
  assert.equal(tab.state.view, "dialog", "warned before the end by the token's limits");
  assert.ok(forEnd(tab.state));
  tab.ticks(2e3);
  assert.equal(tab.state.view, "covered");
});
