// A follower's link, for the shared socket (share.js): to the tab's state
// machine a WebSocket like any, through the leader's WebSocket over the
// tabs' channel. tab is what share.js shares with it: the link that
// receives the channel (tab.link), post, leave and wantsNoLink.

// LINK_WAIT_MS is how long a follower waits for a leader to answer before
// its link counts as a WebSocket that did not open.
export const LINK_WAIT_MS = 2e3;

// follow opens a link through the leader.
export function follow(report, tab) {
  let up = false;
  const done = wasOpen => {
    clearTimeout(wait);
    unfreeze();
    if (tab.link == receive) tab.link = null;
    report({ type: "closed", code: 1006, wasOpen });
  };
  const wait = setTimeout(done, LINK_WAIT_MS, false);
  const receive = m => {
    if (m.k == "l" && !up) {
      up = true;
      clearTimeout(wait);
      report({ type: "opened", path: location.pathname.slice(0, 256) });
    } else if (up && m.k == "f" && m.f) report({ type: "frame", frame: m.f });
    else if (up && m.k == "c") done(true);
  };
  // handover: this tab leads now; its client opens the WebSocket at once.
  receive.handover = () => {
    done(up);
    report({ type: "timer", name: "reconnect" });
  };
  // A follower about to be frozen leaves the queue: the lock must never
  // pass to a page that cannot run.
  const unfreeze = onFreeze(() => {
    if (tab.link != receive) return;
    done(up);
    tab.leave();
  });
  tab.link = receive;
  tab.post({ k: "o" });
  return {
    send: f => up && tab.link == receive && tab.post({ k: "u", f }),
    close() {
      clearTimeout(wait);
      unfreeze();
      if (tab.link == receive) tab.link = null;
      if (tab.wantsNoLink()) tab.leave();
    },
  };
}

// onFreeze runs f when the page is about to be frozen, after which it runs
// nothing; it returns what stops that.
export function onFreeze(f) {
  const page = self.document;
  if (!page) return () => {};
  page.addEventListener("freeze", f);
  return () => page.removeEventListener("freeze", f);
}
