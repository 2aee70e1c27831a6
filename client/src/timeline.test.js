import assert from "node:assert/strict";
import test from "node:test";
import * as time from "./timeline.js";

const limits = { warnMs: 540e3, expireMs: 600e3 };

test("limits come from the token, else presence's defaults", () => {
  assert.deepEqual(time.limitsOf({ warn_after: 60, expire_after: 90 }), { warnMs: 60e3, expireMs: 90e3 });
  assert.deepEqual(time.limitsOf({}), limits);
  assert.deepEqual(time.limitsOf({ expire_after: 1200 }), { warnMs: 540e3, expireMs: 1200e3 });
});

test("activity goes out at most every warn_after / 8, within 1 s and 30 s", () => {
  for (const [warnMs, want] of [
    [540e3, 30e3],
    [80e3, 10e3],
    [2e3, 1e3],
    [4e3, 1e3],
    [240e3, 30e3],
  ]) {
    assert.equal(time.throttleMs({ warnMs }), want, `warn after ${warnMs} ms`);
  }
});

test("idle time is never negative, and idleFor is whole seconds rounded down", () => {
  assert.equal(time.idleMs(10_000, 12_000), 0);
  assert.equal(time.idleMs(10_000, 7_500), 2_500);
  assert.equal(time.idleSeconds(10_000, 7_500), 2);
  assert.equal(time.idleSeconds(10_000, 9_001), 0);
  assert.equal(time.idleSeconds(10_000, 10_500), 0);
});

test("the deadline is the later of the server's word and the tab's own activity", () => {
  // Active here 100 s ago: the local view ends in 500 s; presence's word, older, sooner.
  assert.equal(time.deadline(1_000e3 + 200e3, 900e3, limits), 1_500e3);
  // presence knows of later activity in another browser: its word wins.
  assert.equal(time.deadline(2_000e3, 900e3, limits), 2_000e3);
  // Before presence spoke (0), the tab goes by its own activity.
  assert.equal(time.deadline(0, 900e3, limits), 1_500e3);
});

test("a merged last activity takes the later and never moves backwards", () => {
  let last = 5_000;
  for (const theirs of [4_000, 7_000, 6_000, 0, 7_000]) last = time.latestActivity(last, theirs);
  assert.equal(last, 7_000);
});

test("another tab's warning is stale when this tab saw activity since", () => {
  const now = 1_000e3;
  assert.equal(time.staleWarning(now, now - 10e3, limits), true);
  assert.equal(time.staleWarning(now, now - 540e3, limits), false);
  // 250 ms of slack for the tabs' timers and the channel.
  assert.equal(time.staleWarning(now, now - 539.8e3, limits), false);
  assert.equal(time.staleWarning(now, now - 539.7e3, limits), true);
});

test("reconnects back off with full jitter up to 20 s", () => {
  assert.equal(time.reconnectMs(0, 0.999), 499.5);
  assert.equal(time.reconnectMs(3, 0.5), 2000);
  assert.equal(time.reconnectMs(10, 1), 20e3);
  assert.equal(time.reconnectMs(50, 0), 0);
  assert.equal(time.pingRetryMs(0), 5e3);
  assert.equal(time.pingRetryMs(0.5), 7.5e3);
});

test("a /ping answer schedules as django-session-security does", () => {
  const now = 1_000e3;
  // 100 s idle: no warning; ask again when the warning is due.
  assert.deepEqual(time.readPing(100, limits, now), { warning: false, expireInMs: 500e3, expiresAt: now + 500e3, askInMs: 440e3 });
  // 550 s idle: warn, ending in 50 s; ask again then.
  assert.deepEqual(time.readPing(550, limits, now), { warning: true, expireInMs: 50e3, expiresAt: now + 50e3, askInMs: 50e3 });
  // Exactly at warn_after: warn.
  assert.equal(time.readPing(540, limits, now).warning, true);
  // Past the end: ask again in a second, not at once.
  assert.equal(time.readPing(700, limits, now).askInMs, 1e3);
});

test("the countdown shows minutes while more than one is left, then seconds", () => {
  for (const [ms, want] of [
    [600e3, [10, "minute"]],
    [119e3, [1, "minute"]],
    [60001, [1, "minute"]],
    [60e3, [60, "second"]],
    [9_001, [10, "second"]],
    [1, [1, "second"]],
    [0, [0, "second"]],
    [-5e3, [0, "second"]],
  ]) {
    assert.deepEqual(time.countdown(ms), want, `${ms} ms left`);
  }
});

test("screen readers hear the countdown at 60, 30 and 10 seconds only", () => {
  let said = 120; // the warning showed with 120 s left
  const heard = [];
  for (let s = 120; s >= 0; s--) {
    const step = time.announcement(s, said);
    if (step) heard.push([s, (said = step)]);
  }
  assert.deepEqual(heard, [
    [60, 60],
    [30, 30],
    [10, 10],
  ]);
  // A tab that slept from 45 s to 5 s left says it once, at the last step.
  assert.equal(time.announcement(5, 60), 10);
  // A warning shown with 20 s left is not announced at 30.
  assert.equal(time.announcement(20, 20), 0);
});
