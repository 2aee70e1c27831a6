// Once presence answers a tab that went by its own clock, presence's word
// decides: a live session shows the page again, an ended one leaves, and
// an end presence holds back keeps the page covered until it says more.

import assert from "node:assert/strict";
import test from "node:test";
import { Tab } from "./testkit.js";

const state = (status, expireInMs, limits = [60e3, 120e3]) => ({
  type: "frame",
  frame: { type: "state", status, idle_ms: 0, warn_after_ms: limits[0], expire_after_ms: limits[1], expire_in_ms: expireInMs },
});

// killed is a tab whose presence went away without a close frame, 1 s
// after the page's load and its state frame.
const killed = () => new Tab().open().after(1e3, { type: "closed", code: 1006, wasOpen: true });

test("once presence answers, its word decides: live uncovers, ended leaves, a held end stays covered", () => {
  const covered = () => killed().ticks(119e3);
  // Activity in another browser: presence says active.
  const live = covered();
  assert.equal(live.state.view, "covered");
  live.after(100, { type: "opened", path: "/" });
  assert.equal(live.sent()[0].idle_ms, 120.1e3, "hello says how long the person has been idle");
  live.after(30, state("active", 100e3));
  assert.equal(live.state.status, "live");
  assert.equal(live.state.view, "page");
  // The session ended meanwhile: presence says expire.
  const ended = covered().after(100, { type: "opened", path: "/" }).after(30, { type: "frame", frame: { type: "expire", reason: "idle", redirect_url: "/bye" } });
  assert.equal(ended.state.status, "ended");
  assert.equal(ended.of("leave")[0].redirectUrl, "/bye");
  // presence restarted and holds idle ends for its grace: the page stays covered until its expire.
  const held = covered().after(100, { type: "opened", path: "/" }).after(30, state("warning", 0));
  assert.equal(held.state.view, "covered");
  assert.equal(held.state.contact, true);
  held.ticks(5e3);
  assert.equal(held.state.view, "covered");
  assert.deepEqual(held.of("connect"), [], "no new check while presence holds the end");
  held.frame({ type: "warn", expire_in_ms: 0 }); // the warning presence held back, with no time left
  assert.equal(held.state.view, "covered", "a warn with no time left shows nothing of the page");
  assert.deepEqual(held.emitted(), []);
  held.frame({ type: "expire", reason: "idle", redirect_url: "/bye" });
  assert.equal(held.state.status, "ended");
  // Activity elsewhere lifts the held end: presence says so, and the page shows again.
  const lifted = covered().after(100, { type: "opened", path: "/" }).after(30, state("active", 0));
  assert.equal(lifted.state.view, "covered");
  lifted.after(2e3, state("active", 120e3));
  assert.equal(lifted.state.view, "page");
  // A warning with time left uncovers the page under its dialog.
  const warnedLive = covered().after(100, { type: "opened", path: "/" }).after(30, state("active", 0));
  warnedLive.after(500, { type: "frame", frame: { type: "warn", expire_in_ms: 30e3 } });
  assert.equal(warnedLive.state.view, "dialog");
  // A warned tab whose presence says active hides the warning.
  const warned = killed().ticks(61e3).after(100, { type: "timer", name: "reconnect" }).after(30, { type: "opened", path: "/" });
  warned.after(30, state("active", 110e3));
  assert.equal(warned.state.status, "live");
  assert.deepEqual(warned.emitted(), ["state", "active"]);
});
