import assert from "node:assert/strict";
import test from "node:test";
import * as time from "./timeline.js";

const limits = { warnMs: 540e3, expireMs: 600e3 };

test("local limits: presence's state frame, else the token, else the page's own, else none", () => {
  const stated = { warnMs: 30e3, expireMs: 40e3 };
  const claims = { warn_after: 60, expire_after: 90 };
  const page = { warnAfter: "120", expireAfter: "180" }; // data-warn-after="120" data-expire-after="180"
  assert.equal(time.knownLimits(stated, claims, page), stated);
  assert.deepEqual(time.knownLimits(null, claims, page), { warnMs: 60e3, expireMs: 90e3 });
  assert.deepEqual(time.knownLimits(null, {}, page), { warnMs: 120e3, expireMs: 180e3 });
  assert.deepEqual(time.knownLimits(null, {}, { warnAfter: 5, expireAfter: 8 }), { warnMs: 5e3, expireMs: 8e3 });
  // Each limit from the first source that names it.
  assert.deepEqual(time.knownLimits(null, { expire_after: 1200 }, page), { warnMs: 120e3, expireMs: 1200e3 });
  assert.deepEqual(time.knownLimits(null, { warn_after: 30 }, page), { warnMs: 30e3, expireMs: 180e3 });
  // Nothing names expire_after: no limits, whatever names warn_after.
  assert.equal(time.knownLimits(null, {}, {}), null);
  assert.equal(time.knownLimits(null, { warn_after: 60 }, { warnAfter: "x" }), null);
  // A warn_after named nowhere, or not below expire_after: no warning before the end.
  assert.deepEqual(time.knownLimits(null, { expire_after: 90 }, {}), { warnMs: 90e3, expireMs: 90e3 });
  assert.deepEqual(time.knownLimits(null, {}, { warnAfter: 200, expireAfter: 100 }), { warnMs: 100e3, expireMs: 100e3 });
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
  // Without limits, only presence's word; before it, no deadline at all.
  assert.equal(time.deadline(1_200e3, 900e3, null), 1_200e3);
  assert.equal(time.deadline(0, 900e3, null), Infinity);
  // A fixed end (an absolute lifetime) is not moved by activity.
  assert.equal(time.deadline(1_200e3, 900e3, limits, 1_300e3), 1_300e3);
  assert.equal(time.deadline(1_200e3, 600e3, limits, 1_300e3), 1_200e3);
});

test("by its own clock a tab warns expire_after - warn_after before the end, and covers at the end", () => {
  const end = 1_600e3; // 60 s between warning and end
  assert.equal(time.localStatus(end - 60.001e3, end, limits), "page");
  assert.equal(time.localStatus(end - 60e3, end, limits), "warned");
  assert.equal(time.localStatus(end - 1, end, limits), "warned");
  assert.equal(time.localStatus(end, end, limits), "checking");
  assert.equal(time.localStatus(end + 3600e3, end, limits), "checking");
  // No warning when warn_after is expire_after; no end without one.
  assert.equal(time.localStatus(end - 1, end, { warnMs: 600e3, expireMs: 600e3 }), "page");
  assert.equal(time.localStatus(end, end, { warnMs: 600e3, expireMs: 600e3 }), "checking");
  assert.equal(time.localStatus(1e15, Infinity, null), "page");
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

test("tries back off with full jitter up to 5 s, within presence's 8 s grace after a restart", () => {
  assert.equal(time.reconnectMs(0, 0.999), 499.5);
  assert.equal(time.reconnectMs(2, 0.5), 1000);
  assert.equal(time.reconnectMs(3, 0.999), 3996);
  assert.equal(time.reconnectMs(4, 0.999), 4995);
  for (const attempt of [4, 10, 50, 1e3]) assert.equal(time.reconnectMs(attempt, 1), 5e3, `attempt ${attempt}`);
  assert.equal(time.reconnectMs(50, 0), 0);
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
