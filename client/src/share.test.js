// The shared socket's relay, with a Web Locks stand-in: which tab leads,
// what a follower's frames become on the leader's WebSocket, and how a
// follower hears presence.

import assert from "node:assert/strict";
import test from "node:test";
import { shareSocket } from "./share.js";
import { fakeLocks, fakeSockets, settle } from "./testkit.js";

globalThis.self = globalThis;
globalThis.location = { pathname: "/page" };
// Node keeps running while a BroadcastChannel is open; a page does not.
globalThis.BroadcastChannel = class extends BroadcastChannel {
  constructor(name) {
    super(name);
    this.unref();
  }
};

test("the first tab leads, and a follower's hello becomes activity and a count of tabs on the leader's WebSocket", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets(), follower = fakeSockets();
  const heardByLeader = [], heardByFollower = [];

  const leaderLink = shareSocket(name, leader.open)("https://p.example", e => heardByLeader.push(e));
  await settle();
  assert.equal(leader.opened.length, 1, "the first tab opens a WebSocket");
  const ws = leader.opened[0];
  ws.report({ type: "opened", path: "/page" });
  await settle();
  assert.deepEqual(ws.sent, [{ type: "tabs", tabs: 1 }], "the leader says it speaks for one tab");

  const followerLink = shareSocket(name, follower.open)("https://p.example", e => heardByFollower.push(e));
  t.after(() => {
    followerLink.close();
    leaderLink.close();
  });
  await settle();
  assert.equal(follower.opened.length, 0, "a follower opens no WebSocket");
  assert.deepEqual(heardByFollower.map(e => e.type), ["opened"], "the follower's link is up");

  followerLink.send({ type: "hello", idle_ms: 1500, path: "/other" });
  await settle();
  assert.deepEqual(ws.sent.slice(1), [
    { type: "activity", idle_ms: 1500 },
    { type: "tabs", tabs: 2 },
  ]);

  followerLink.send({ type: "pong" });
  followerLink.send({ type: "activity", idle_ms: 0 });
  followerLink.send({ type: "extend" });
  await settle();
  assert.deepEqual(ws.sent.slice(3), [{ type: "activity", idle_ms: 0 }, { type: "extend" }], "a follower's pong is the leader's to send");

  const state = { type: "state", status: "active", expire_in_ms: 5000 };
  ws.report({ type: "frame", frame: state });
  ws.report({ type: "frame", frame: { type: "error", code: "bad_field" } });
  await settle();
  assert.deepEqual(
    heardByFollower.filter(e => e.type == "frame").map(e => e.frame),
    [state],
    "the follower hears presence's frames, but not the errors of the leader's own frames",
  );
  assert.equal(heardByLeader.filter(e => e.type == "frame").length, 2);

  ws.report({ type: "closed", code: 1006, wasOpen: true });
  await settle();
  assert.deepEqual(heardByFollower.at(-1), { type: "closed", code: 1006, wasOpen: true }, "the leader's WebSocket closing takes the link down");
});

test("a passive follower's hello adds a tab but is no activity", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets();
  const leaderLink = shareSocket(name, leader.open)("https://p.example", () => {});
  await settle();
  leader.opened[0].report({ type: "opened", path: "/" });
  const followerLink = shareSocket(name, fakeSockets().open)("https://p.example", () => {});
  t.after(() => {
    followerLink.close();
    leaderLink.close();
  });
  await settle();
  followerLink.send({ type: "hello", idle_ms: 0, passive: true });
  await settle();
  assert.deepEqual(leader.opened[0].sent, [
    { type: "tabs", tabs: 1 },
    { type: "tabs", tabs: 2 },
  ]);
});

test("when the leader's client closes its WebSocket, a follower takes the lock and opens one at once", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets(), follower = fakeSockets();
  const heardByFollower = [];
  const leaderLink = shareSocket(name, leader.open)("https://p.example", () => {});
  await settle();
  leader.opened[0].report({ type: "opened", path: "/" });
  const followerLink = shareSocket(name, follower.open)("https://p.example", e => heardByFollower.push(e));
  t.after(() => followerLink.close());
  await settle();
  leaderLink.close();
  await settle();
  const types = heardByFollower.map(e => e.type + (e.name ? ":" + e.name : ""));
  assert.deepEqual(types, ["opened", "closed", "timer:reconnect"], "the follower's link gives way, and its client connects again now");
});

test("a leader whose WebSocket presence closed passes the lock on once its client closes it too (the session ended, or stop())", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets(), follower = fakeSockets();
  const heardByFollower = [];
  const leaderLink = shareSocket(name, leader.open)("https://p.example", () => {});
  await settle();
  leader.opened[0].report({ type: "opened", path: "/" });
  const open = shareSocket(name, follower.open);
  open("https://p.example", e => heardByFollower.push(e));
  await settle();
  leader.opened[0].report({ type: "closed", code: 1006, wasOpen: true });
  await settle();
  assert.deepEqual(heardByFollower.map(e => e.type), ["opened", "closed"], "the follower's link went down with the WebSocket");
  leaderLink.close();
  await settle();
  const again = open("https://p.example", () => {}); // the follower's client tries again
  t.after(() => again.close());
  await settle();
  assert.equal(follower.opened.length, 1, "the follower leads now, with a WebSocket of its own");
});

test("a leader about to be frozen gives the WebSocket and the lock up, and a follower leads at once", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  globalThis.document = new EventTarget();
  t.after(() => delete globalThis.document);
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets(), heardByLeader = [], heardByFollower = [];
  shareSocket(name, leader.open)("https://p.example", e => heardByLeader.push(e));
  await settle();
  leader.opened[0].report({ type: "opened", path: "/" });
  const followerLink = shareSocket(name, fakeSockets().open)("https://p.example", e => heardByFollower.push(e));
  t.after(() => followerLink.close());
  await settle();
  document.dispatchEvent(new Event("freeze"));
  await settle();
  assert.ok(leader.opened[0].closed, "the frozen leader's WebSocket is closed");
  assert.deepEqual(heardByLeader.at(-1), { type: "closed", code: 1001, wasOpen: true }, "its client hears it closed, to connect again once resumed");
  assert.deepEqual(heardByFollower.map(e => e.type + (e.name ? ":" + e.name : "")), ["opened", "closed", "timer:reconnect"], "the follower leads now");
});

test("a follower that hears no leader counts its link as a WebSocket that did not open", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets();
  const leaderLink = shareSocket(name, leader.open)("https://p.example", () => {});
  await settle(); // the leader's WebSocket never opens
  const heard = [];
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const followerLink = shareSocket(name, fakeSockets().open)("https://p.example", e => heard.push(e));
  t.after(() => {
    followerLink.close();
    leaderLink.close();
  });
  t.mock.timers.tick(0);
  await Promise.resolve();
  await Promise.resolve();
  await Promise.resolve();
  t.mock.timers.tick(2000);
  assert.deepEqual(heard, [{ type: "closed", code: 1006, wasOpen: false }]);
});

test("without Web Locks, every tab keeps a WebSocket of its own", () => {
  globalThis.navigator = {};
  const { open } = fakeSockets();
  assert.equal(shareSocket("presence:x", open), open);
});
