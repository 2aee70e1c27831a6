// The shared socket's relay, with a Web Locks stand-in: which tab leads,
// what a follower's frames become on the leader's WebSocket, and how a
// follower hears presence.

import assert from "node:assert/strict";
import test from "node:test";
import { shareSocket } from "./share.js";
import { fakeSockets, settle, sharedBrowser } from "./testkit.js";

test("the first tab leads, and a follower's hello becomes a join and a count of tabs on the leader's WebSocket", async t => {
  const browser = sharedBrowser();
  const leader = browser.tab();
  await settle();
  assert.equal(leader.sockets.opened.length, 1, "the first tab opens a WebSocket");
  const ws = leader.sockets.opened[0];
  ws.report({ type: "opened", path: "/page" });
  await settle();
  assert.deepEqual(ws.sent, [{ type: "tabs", tabs: 1 }], "the leader says it speaks for one tab");

  const follower = browser.tab();
  t.after(() => {
    follower.link.close();
    leader.link.close();
  });
  await settle();
  assert.equal(follower.sockets.opened.length, 0, "a follower opens no WebSocket");
  assert.deepEqual(follower.heard.map(e => e.type), ["opened"], "the follower's link is up");

  follower.link.send({ type: "hello", idle_ms: 1500, path: "/other" });
  await settle(150); // the leader gathers the tabs that join into one count
  assert.deepEqual(ws.sent.slice(1), [
    { type: "join", idle_ms: 1500, path: "/other", passive: undefined },
    { type: "tabs", tabs: 2 },
  ]);

  follower.link.send({ type: "pong" });
  follower.link.send({ type: "activity", idle_ms: 0 });
  follower.link.send({ type: "extend" });
  await settle();
  assert.deepEqual(ws.sent.slice(3), [{ type: "activity", idle_ms: 0 }, { type: "extend" }], "a follower's pong is the leader's to send");

  const state = { type: "state", status: "active", expire_in_ms: 5000 };
  ws.report({ type: "frame", frame: state });
  ws.report({ type: "frame", frame: { type: "error", code: "bad_field" } });
  await settle();
  assert.deepEqual(
    follower.heard.filter(e => e.type == "frame").map(e => e.frame),
    [state],
    "the follower hears presence's frames, but not the errors of the leader's own frames",
  );
  assert.equal(leader.heard.filter(e => e.type == "frame").length, 2);

  ws.report({ type: "closed", code: 1006, wasOpen: true });
  await settle();
  assert.deepEqual(follower.heard.at(-1), { type: "closed", code: 1006, wasOpen: true }, "the leader's WebSocket closing takes the link down");
});

test("tabs that join at once make one join each, passive and path kept for presence to judge, and one count", async t => {
  const browser = sharedBrowser();
  const leader = await browser.leader();
  const followers = [];
  for (let i = 0; i < 12; i++) followers.push(browser.tab());
  t.after(() => {
    for (const f of followers) f.link.close();
    leader.link.close();
  });
  await settle();
  followers.forEach((f, i) => f.link.send({ type: "hello", idle_ms: i, path: "/live/" + i, passive: i == 0 }));
  await settle(150);
  const sent = leader.ws.sent;
  assert.deepEqual(sent[0], { type: "tabs", tabs: 1 });
  assert.deepEqual(sent.filter(f => f.type == "tabs").slice(1), [{ type: "tabs", tabs: 13 }], "one count for the twelve");
  const joins = sent.filter(f => f.type == "join");
  assert.equal(joins.length, 12);
  assert.deepEqual(joins[0], { type: "join", idle_ms: 0, path: "/live/0", passive: true });
});

test("a follower that hears no leader counts its link as a WebSocket that did not open", async t => {
  const browser = sharedBrowser();
  const leader = browser.tab();
  await settle(); // the leader's WebSocket never opens
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const follower = browser.tab();
  t.after(() => {
    follower.link.close();
    leader.link.close();
  });
  t.mock.timers.tick(0);
  await Promise.resolve();
  await Promise.resolve();
  await Promise.resolve();
  t.mock.timers.tick(2000);
  assert.deepEqual(follower.heard, [{ type: "closed", code: 1006, wasOpen: false }]);
});

test("without Web Locks, every tab keeps a WebSocket of its own", () => {
  sharedBrowser();
  globalThis.navigator = {};
  const { open } = fakeSockets();
  assert.equal(shareSocket("presence:x", open), open);
});
