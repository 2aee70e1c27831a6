// The tabs of one browser: they share the last activity and mirror the
// warning and the end through the BroadcastChannel.

import assert from "node:assert/strict";
import test from "node:test";
import { Tab } from "./testkit.js";

test("the last activity merges from other tabs, later wins, never backwards", () => {
  const tab = new Tab().open();
  const start = tab.state.lastActivity;
  tab.after(10e3, { type: "tab", message: { k: "a", t: start + 8e3 } });
  assert.equal(tab.state.lastActivity, start + 8e3);
  tab.after(1e3, { type: "tab", message: { k: "a", t: start + 2e3 } });
  assert.equal(tab.state.lastActivity, start + 8e3, "a stale report does not move it back");
  assert.deepEqual(tab.effects, [], "nothing is echoed back");
  // The merged activity is what a reconnect reports.
  tab.after(1e3, { type: "closed", code: 1012, wasOpen: true }).after(300, { type: "timer", name: "reconnect" });
  tab.after(100, { type: "opened", path: "/" });
  assert.equal(tab.sent()[0].idle_ms, 4.4e3);
});

test("another tab's warning shows here at once, without echo", () => {
  const tab = new Tab().open();
  const endsAt = tab.now + 120e3;
  tab.after(60e3, { type: "tab", message: { k: "w", e: endsAt } });
  assert.equal(tab.state.status, "warned");
  assert.equal(tab.state.expiresAt, endsAt);
  assert.deepEqual(tab.emitted(), ["warn"]);
  assert.deepEqual(tab.of("emit")[0].detail, { expireInMs: 60e3, expiresAt: endsAt }, "the page's own countdown ends with the other tab's");
  assert.deepEqual(tab.of("post"), []);
});

test("another tab's warning is ignored once this tab saw activity since", () => {
  const tab = new Tab().open();
  tab.after(59e3, { type: "activity" });
  tab.after(1e3, { type: "tab", message: { k: "w", e: tab.now + 60e3 } });
  assert.equal(tab.state.status, "live");
});

test("another tab's dismissal and end are mirrored, without echo", () => {
  const tab = new Tab().open().after(60e3, { type: "frame", frame: { type: "warn", expire_in_ms: 60e3 } });
  tab.after(100, { type: "tab", message: { k: "s" } });
  assert.equal(tab.state.status, "live");
  assert.deepEqual(tab.emitted(), ["active"]);
  assert.deepEqual(tab.of("post"), []);
  tab.after(100, { type: "tab", message: { k: "x", f: { type: "expire", reason: "logout", redirect_url: "/bye" } } });
  assert.equal(tab.state.status, "ended");
  assert.deepEqual(tab.of("post"), []);
  assert.deepEqual(tab.of("leave")[0], { type: "leave", reason: "logout", redirectUrl: "/bye", reload: true });
});

test("a dismissal from another tab when nothing shows tells nobody", () => {
  const tab = new Tab().open().after(100, { type: "tab", message: { k: "s" } });
  assert.deepEqual(tab.effects, []);
});
