// One WebSocket per browser (the shareSocket option), in a module that
// presence.js loads only for the pages that ask for it. The tabs of a
// session in one browser that want a link to presence queue for a Web
// Lock; the tab that holds it, the leader, keeps the session's WebSocket
// for them all, and the others, the followers, speak to presence through
// it over a BroadcastChannel. To its state machine a follower's link is a
// WebSocket like any: it opens when the leader answers, hears every frame
// presence sends the leader, and sends its frames through the leader.
// When the leader's tab closes or is frozen, or its client closes its
// WebSocket, the lock passes to the next tab in the queue, which opens
// the WebSocket at once; the followers' links stay up and hear
// presence's state for the new WebSocket. Messages on the channel:
//   {k: "o"}     a follower asks for the link
//   {k: "l"}     the leader's WebSocket is open: the links opening are up
//   {k: "f", f}  a frame presence sent to the leader
//   {k: "u", f}  a follower's frame for presence
//   {k: "c"}     the leader's WebSocket closed: the links are down

// LINK_WAIT_MS is how long a follower waits for a leader to answer before
// its link counts as a WebSocket that did not open.
export const LINK_WAIT_MS = 2e3;

// COUNT_MS is how often a leader counts the tabs it speaks for.
export const COUNT_MS = 5e3;

// shareSocket returns what stands in for openSocket(base, report), which
// is given, for the tabs of the session name. Where the browser has no Web
// Locks, that is openSocket itself.
export function shareSocket(name, openSocket) {
  const locks = self.navigator.locks;
  if (!locks) return openSocket;
  const lock = name + ":socket";
  // queued: this tab is in the queue for the lock, a promise that settles
  // once it knows whether it leads; channel: the tabs' channel, open while
  // it is; stopWaiting leaves the queue, release ends the hold; leading:
  // it holds the lock; opening: a link is being chosen; socket: the
  // leader's WebSocket, open once live; link: the follower's link, which
  // receives the channel.
  let queued, channel, stopWaiting, release, leading, opening, socket, live, link, told, counting;
  const post = m => channel && channel.postMessage(m);

  // queue joins the queue for the lock, unless this tab is in it, and
  // returns a promise that settles once the tab knows whether it leads:
  // it takes a free lock at once, or else waits in the queue.
  const queue = () => {
    if (queued) return queued;
    channel = new BroadcastChannel(lock);
    channel.onmessage = hear;
    const abort = new AbortController();
    // hold takes the lock; returning nothing passes it on.
    const hold = () => {
      if (queued != ticket) return; // this tab left the queue meanwhile
      if (!link && !socket && !opening) return void leave(); // it wants no link any more
      leading = true;
      counting = setInterval(count, COUNT_MS);
      if (link) link.handover(); // a follower's link gives way to the WebSocket, at once
      return new Promise(resolve => (release = resolve));
    };
    let known;
    const ticket = (queued = new Promise(resolve => (known = resolve)));
    stopWaiting = () => abort.abort();
    locks
      .request(lock, { ifAvailable: true }, free => {
        if (!free) {
          known();
          return locks.request(lock, { signal: abort.signal }, hold);
        }
        const held = hold();
        known();
        return held;
      })
      .catch(() => {});
    return ticket;
  };

  // leave leaves the queue, or passes the lock on.
  const leave = () => {
    if (stopWaiting) stopWaiting();
    if (release) release();
    if (channel) channel.close();
    queued = channel = stopWaiting = release = leading = null;
    clearInterval(counting);
  };

  // count tells presence how many tabs the WebSocket speaks for: this one
  // and those in the queue. always sends it unchanged too: presence
  // answers with a state frame, which a follower that joins needs.
  const count = always =>
    locks.query().then(({ pending }) => {
      const tabs = 1 + pending.filter(l => l.name == lock).length;
      if (!live || (always !== true && tabs == told)) return;
      told = tabs;
      socket.send({ type: "tabs", tabs });
    });

  // relay sends a follower's frame on: its hello says how long it has been
  // idle and adds a tab; presence's pings are the leader's to answer.
  const relay = f => {
    if (f.type == "hello") {
      if (!f.passive) socket.send({ type: "activity", idle_ms: f.idle_ms });
      count(true);
    } else if (f.type != "pong") socket.send(f);
  };

  const hear = ({ data: m }) => {
    if (leading) {
      if (m.k == "o" && live) post({ k: "l" });
      else if (m.k == "u" && live) relay(m.f);
    } else if (link) link(m);
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
      } else if (event.type == "closed") down();
    });
    socket = s;
    // close: the client wants no WebSocket now, so another tab may lead.
    const close = () => {
      s.close();
      if (s == socket) down();
      if (!socket) leave();
      if (self.document) document.removeEventListener("freeze", freeze);
    };
    // A page about to be frozen runs nothing more: it gives the WebSocket
    // and the lock up for another tab to lead at once, and once resumed
    // its client connects again, following.
    const freeze = () => {
      if (s != socket) return;
      close();
      report({ type: "closed", code: 1001, wasOpen: true });
    };
    if (self.document) document.addEventListener("freeze", freeze);
    return { send: s.send, close };
  };
  const down = () => {
    if (live) post({ k: "c" });
    live = socket = null;
  };

  // follow opens a link through the leader.
  const follow = report => {
    let up = false;
    const done = wasOpen => {
      clearTimeout(wait);
      if (link == receive) link = null;
      report({ type: "closed", code: 1006, wasOpen });
    };
    const wait = setTimeout(done, LINK_WAIT_MS, false);
    const receive = m => {
      if (m.k == "l" && !up) {
        up = true;
        clearTimeout(wait);
        report({ type: "opened", path: location.pathname.slice(0, 256) });
      } else if (up && m.k == "f") report({ type: "frame", frame: m.f });
      else if (up && m.k == "c") done(true);
    };
    // handover: this tab leads now; its client opens the WebSocket at once.
    receive.handover = () => {
      done(up);
      report({ type: "timer", name: "reconnect" });
    };
    link = receive;
    post({ k: "o" });
    return {
      send: f => up && link == receive && post({ k: "u", f }),
      close() {
        clearTimeout(wait);
        if (link == receive) link = null;
        if (!link && !socket) leave();
      },
    };
  };

  // open gives the tab its link once it knows whether it leads; until
  // then the link sends nothing.
  return (base, report) => {
    let chosen, closed;
    opening = true;
    queue().then(() => {
      opening = false;
      if (!closed) chosen = leading ? lead(base, report) : follow(report);
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
