// The shared socket's hand-overs, with a Web Locks stand-in: the lock
// passes on when the leader goes (its client closes the WebSocket, its
// page is frozen, presence ends the session), and never stays with a tab
// that wants no link or cannot run.

import assert from "node:assert/strict";
import test from "node:test";
import { kinds, settle, sharedBrowser } from "./testkit.js";

test("when the leader's client closes its WebSocket, a follower takes the lock and opens one at once", async t => {
  const browser = sharedBrowser();
  const leader = await browser.leader();
  const follower = browser.tab();
  t.after(() => follower.link.close());
  await settle();
  leader.link.close();
  await settle();
  assert.deepEqual(kinds(follower.heard), ["opened", "closed", "timer:reconnect"], "the follower's link gives way, and its client connects again now");
});

test("a leader whose WebSocket presence closed passes the lock on once its client closes it too (the session ended, or stop())", async t => {
  const browser = sharedBrowser();
  const leader = await browser.leader();
  const follower = browser.tab();
  await settle();
  leader.ws.report({ type: "closed", code: 1006, wasOpen: true });
  await settle();
  assert.deepEqual(kinds(follower.heard), ["opened", "closed"], "the follower's link went down with the WebSocket");
  leader.link.close();
  await settle();
  const again = follower.open("https://p.example", () => {}); // the follower's client tries again
  t.after(() => again.close());
  await settle();
  assert.equal(follower.sockets.opened.length, 1, "the follower leads now, with a WebSocket of its own");
});

test("a leader whose token presence refuses (4401) passes the lock on at once", async t => {
  const browser = sharedBrowser();
  const leader = await browser.leader(); // its client goes on by /ping, not closing the link
  const follower = browser.tab();
  await settle();
  leader.ws.report({ type: "closed", code: 4401, wasOpen: true });
  await settle();
  const again = follower.open("https://p.example", () => {}); // the follower's client tries again
  t.after(() => again.close());
  await settle();
  assert.equal(follower.sockets.opened.length, 1, "the follower leads, with its own token");
});

test("a leader about to be frozen gives the WebSocket and the lock up, and a follower leads at once", async t => {
  const browser = sharedBrowser();
  const leaderPage = new EventTarget(), followerPage = new EventTarget();
  t.after(() => delete globalThis.document);
  globalThis.document = leaderPage;
  const leader = await browser.leader();
  globalThis.document = followerPage;
  const follower = browser.tab();
  t.after(() => follower.link.close());
  await settle();
  leaderPage.dispatchEvent(new Event("freeze"));
  await settle();
  assert.ok(leader.ws.closed, "the frozen leader's WebSocket is closed");
  assert.deepEqual(leader.heard.at(-1), { type: "closed", code: 1001, wasOpen: true }, "its client hears it closed, to connect again once resumed");
  assert.deepEqual(kinds(follower.heard), ["opened", "closed", "timer:reconnect"], "the follower leads now");
});

test("a follower about to be frozen leaves the queue, so that the lock never passes to it", async t => {
  const browser = sharedBrowser();
  const leaderPage = new EventTarget(), frozenPage = new EventTarget(), otherPage = new EventTarget();
  t.after(() => delete globalThis.document);
  globalThis.document = leaderPage;
  const leader = await browser.leader();
  globalThis.document = frozenPage;
  const frozen = browser.tab(); // next in the queue
  await settle();
  globalThis.document = otherPage;
  const other = browser.tab();
  t.after(() => other.link.close());
  await settle();
  frozenPage.dispatchEvent(new Event("freeze"));
  await settle();
  assert.deepEqual(kinds(frozen.heard), ["opened", "closed"], "the frozen follower's link is down");
  leader.link.close();
  await settle();
  assert.deepEqual(kinds(other.heard), ["opened", "closed", "timer:reconnect"], "the next follower leads");
});

test("a client stopped before it knew whether it leads passes the lock on", async t => {
  const browser = sharedBrowser();
  browser.tab().link.close(); // stop() at once, before the lock's answer
  await settle();
  const next = browser.tab();
  t.after(() => next.link.close());
  await settle();
  assert.equal(next.sockets.opened.length, 1, "the next tab leads, with a WebSocket");
});

test("where the browser refuses the lock, the tab keeps a WebSocket of its own", async t => {
  const browser = sharedBrowser();
  globalThis.navigator = { locks: { request: () => Promise.reject(new DOMException("denied", "SecurityError")), query: () => Promise.resolve({ pending: [] }) } };
  const tab = browser.tab();
  t.after(() => tab.link.close());
  await settle();
  assert.equal(tab.sockets.opened.length, 1);
});
