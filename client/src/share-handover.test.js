// The shared socket's hand-overs, with a Web Locks stand-in: the lock
// passes on when the leader goes (its client closes the WebSocket, its
// page is frozen, presence ends the session), and never stays with a tab
// that wants no link or cannot run.

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
  const leaderPage = new EventTarget(), followerPage = new EventTarget();
  t.after(() => delete globalThis.document);
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets(), heardByLeader = [], heardByFollower = [];
  globalThis.document = leaderPage;
  shareSocket(name, leader.open)("https://p.example", e => heardByLeader.push(e));
  await settle();
  leader.opened[0].report({ type: "opened", path: "/" });
  globalThis.document = followerPage;
  const followerLink = shareSocket(name, fakeSockets().open)("https://p.example", e => heardByFollower.push(e));
  t.after(() => followerLink.close());
  await settle();
  leaderPage.dispatchEvent(new Event("freeze"));
  await settle();
  assert.ok(leader.opened[0].closed, "the frozen leader's WebSocket is closed");
  assert.deepEqual(heardByLeader.at(-1), { type: "closed", code: 1001, wasOpen: true }, "its client hears it closed, to connect again once resumed");
  assert.deepEqual(heardByFollower.map(e => e.type + (e.name ? ":" + e.name : "")), ["opened", "closed", "timer:reconnect"], "the follower leads now");
});

test("a follower about to be frozen leaves the queue, so that the lock never passes to it", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  const leaderPage = new EventTarget(), frozenPage = new EventTarget(), otherPage = new EventTarget();
  t.after(() => delete globalThis.document);
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets(), frozen = [], other = fakeSockets(), heardByOther = [];
  globalThis.document = leaderPage;
  const leaderLink = shareSocket(name, leader.open)("https://p.example", () => {});
  await settle();
  leader.opened[0].report({ type: "opened", path: "/" });
  globalThis.document = frozenPage;
  shareSocket(name, fakeSockets().open)("https://p.example", e => frozen.push(e)); // next in the queue
  await settle();
  globalThis.document = otherPage;
  const otherLink = shareSocket(name, other.open)("https://p.example", e => heardByOther.push(e));
  t.after(() => otherLink.close());
  await settle();
  frozenPage.dispatchEvent(new Event("freeze"));
  await settle();
  assert.deepEqual(frozen.map(e => e.type), ["opened", "closed"], "the frozen follower's link is down");
  leaderLink.close();
  await settle();
  assert.deepEqual(heardByOther.map(e => e.type + (e.name ? ":" + e.name : "")), ["opened", "closed", "timer:reconnect"], "the next follower leads");
});

test("a client stopped before it knew whether it leads passes the lock on", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  const name = "presence:test-" + Math.random();
  const first = shareSocket(name, fakeSockets().open)("https://p.example", () => {});
  first.close(); // stop() at once, before the lock's answer
  await settle();
  const next = fakeSockets();
  const link = shareSocket(name, next.open)("https://p.example", () => {});
  t.after(() => link.close());
  await settle();
  assert.equal(next.opened.length, 1, "the next tab leads, with a WebSocket");
});

test("where the browser refuses the lock, the tab keeps a WebSocket of its own", async t => {
  globalThis.navigator = { locks: { request: () => Promise.reject(new DOMException("denied", "SecurityError")), query: () => Promise.resolve({ pending: [] }) } };
  const own = fakeSockets();
  const link = shareSocket("presence:refused-" + Math.random(), own.open)("https://p.example", () => {});
  t.after(() => link.close());
  await settle();
  assert.equal(own.opened.length, 1);
});

test("a leader whose token presence refuses (4401) passes the lock on at once", async t => {
  globalThis.navigator = { locks: fakeLocks() };
  const name = "presence:test-" + Math.random();
  const leader = fakeSockets(), follower = fakeSockets();
  shareSocket(name, leader.open)("https://p.example", () => {}); // its client goes on by /ping, not closing the link
  await settle();
  leader.opened[0].report({ type: "opened", path: "/" });
  const open = shareSocket(name, follower.open);
  open("https://p.example", () => {});
  await settle();
  leader.opened[0].report({ type: "closed", code: 4401, wasOpen: true });
  await settle();
  const again = open("https://p.example", () => {}); // the follower's client tries again
  t.after(() => again.close());
  await settle();
  assert.equal(follower.opened.length, 1, "the follower leads, with its own token");
});
