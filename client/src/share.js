// One WebSocket per browser (the shareSocket option), in a module that
// presence.js loads only for the pages that ask for it. The tabs of a
// session in one browser that want a link to presence queue for a Web
// Lock (lock.js); the tab that holds it, the leader, keeps the session's
// WebSocket for them all, and the others, the followers, speak to presence
// through it over a BroadcastChannel. To its state machine a follower's
// link is a WebSocket like any: it opens when the leader answers, hears
// every frame presence sends the leader, and sends its frames through the
// leader. When the leader's tab closes or is frozen, or its client closes
// its WebSocket, the lock passes to the next tab in the queue, which opens
// the WebSocket at once; the followers' links stay up and hear presence's
// state for the new WebSocket. Messages on the channel:
//   {k: "o"}     a follower asks for the link
//   {k: "l"}     the leader's WebSocket is open: the links opening are up
//   {k: "f", f}  a frame presence sent to the leader
//   {k: "u", f}  a follower's frame for presence
//   {k: "c"}     the leader's WebSocket closed: the links are down

import { follow, onFreeze } from "./follow.js";
import { joinQueue } from "./lock.js";

// COUNT_MS is how often a leader counts the tabs it speaks for, and
// COUNT_WAIT_MS how long it gathers the tabs that join into one count.
export const COUNT_MS = 5e3;
export const COUNT_WAIT_MS = 100;

// shareSocket returns what stands in for openSocket(base, report), which
// is given, for the tabs of the session name. Where the browser has no Web
// Locks, that is openSocket itself.
export function shareSocket(name, openSocket) {
  const locks = self.navigator.locks;
  if (!locks) return openSocket;
  const lock = name + ":socket";
  // queue: this tab's place in the queue; channel: the tabs' channel, open
  // while it has one; leading: it holds the lock; opening: links being
  // chosen; socket: the leader's WebSocket, live once open; tab.link: the
  // follower's link (follow.js), which receives the channel.
  let queue, channel, leading, opening = 0, socket, live, told, counting, gathering;
  const post = m => channel && channel.postMessage(m);
  const wantsNoLink = () => !tab.link && !socket && !opening;
  const tab = { link: null, post, wantsNoLink, leave: () => leave() };

  // enqueue joins the queue, unless this tab is in it, and returns whether
  // it leads (joinQueue's known).
  const enqueue = () => {
    if (queue) return queue.known;
    try {
      channel = new BroadcastChannel(lock);
    } catch {
      return Promise.resolve(null);
    }
    channel.onmessage = hear;
    queue = joinQueue(locks, lock, () => {
      if (wantsNoLink()) return void leave();
      leading = true;
      counting = setInterval(count, COUNT_MS);
      if (tab.link) tab.link.handover(); // a follower's link gives way to the WebSocket, at once
      return true;
    });
    return queue.known;
  };

  // leave leaves the queue, or passes the lock on.
  const leave = () => {
    if (queue) queue.leave();
    if (channel) channel.close();
    queue = channel = leading = null;
    clearInterval(counting);
  };

  // count tells presence how many tabs the WebSocket speaks for: this one
  // and those in the queue. always sends it unchanged too: presence
  // answers with a state frame, which the tabs that join need.
  const count = always =>
    locks.query().then(({ pending }) => {
      const tabs = 1 + pending.filter(l => l.name == lock).length;
      if (!live || (always !== true && tabs == told)) return;
      told = tabs;
      socket.send({ type: "tabs", tabs });
    }, () => {});
  const gather = () => {
    gathering ||= setTimeout(() => {
      gathering = 0;
      count(true);
    }, COUNT_WAIT_MS);
  };

  // relay sends a follower's frame on: its hello joins, for presence to
  // judge its activity as a hello's; presence's pings are the leader's.
  const relay = f => {
    if (f.type == "hello") {
      socket.send({ type: "join", idle_ms: f.idle_ms, path: f.path, passive: f.passive });
      gather();
    } else if (f.type != "pong") socket.send(f);
  };

  const hear = ({ data: m }) => {
    if (!m || typeof m != "object") return;
    if (leading) {
      if (m.k == "o" && live) post({ k: "l" });
      else if (m.k == "u" && live && m.f && typeof m.f == "object") relay(m.f);
    } else if (tab.link) tab.link(m);
  };

  // lead opens the WebSocket, and relays what presence sends on it.
  const lead = (base, report) => {
    const s = openSocket(base, event => {
      if (s != socket) return;
      if (event.type == "frame" && event.frame.type != "error") post({ k: "f", f: event.frame });
      report(event);
      if (event.type == "opened") {
        live = true;
        told = 0;
        post({ k: "l" });
        count();
      } else if (event.type == "closed") {
        down();
        unfreeze();
        // A refused token or an ended session: another tab may lead.
        if (event.code == 4401 || event.code == 4410) leave();
      }
    });
    socket = s;
    // close: the client wants no WebSocket now, so another tab may lead.
    const close = () => {
      s.close();
      if (s == socket) down();
      if (!socket) leave();
      unfreeze();
    };
    // A page about to be frozen gives the WebSocket and the lock up for
    // another tab to lead at once; resumed, its client connects again.
    const unfreeze = onFreeze(() => {
      if (s != socket) return;
      const wasOpen = !!live;
      close();
      report({ type: "closed", code: 1001, wasOpen });
    });
    return { send: s.send, close };
  };
  const down = () => {
    post({ k: "c" });
    live = socket = null;
  };

  // open gives the tab its link once it knows whether it leads; until then
  // the link sends nothing. Where the lock cannot be had, the tab keeps a
  // WebSocket of its own.
  return (base, report) => {
    let chosen, closed;
    opening++;
    enqueue().then(leads => {
      opening--;
      if (closed) return void (wantsNoLink() && leave());
      chosen = leads === null ? openSocket(base, report) : leading ? lead(base, report) : follow(report, tab);
    });
    return {
      send: f => chosen && chosen.send(f),
      close() {
        closed = true;
        if (chosen) chosen.close();
      },
    };
  };
}
