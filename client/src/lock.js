// The queue for a Web Lock, for the shared socket (share.js): a tab takes
// a free lock at once, or else waits its turn; it may leave the queue, or
// pass on a lock it holds, at any time.

// joinQueue asks locks for the lock named name. hold runs when this tab
// gets it, and says whether to keep it: false passes it on at once. It
// returns known, a promise of whether the tab holds the lock now (true),
// waits for it (false), or cannot have it (null: the browser refused the
// request, as in some sandboxed frames), and leave, which leaves the queue
// or passes the lock on.
export function joinQueue(locks, name, hold) {
  const abort = new AbortController();
  let known, release, left;
  const whether = new Promise(resolve => (known = resolve));
  const take = () => {
    if (left || !hold()) return;
    return new Promise(resolve => (release = resolve));
  };
  try {
    locks
      .request(name, { ifAvailable: true }, free => {
        if (!free) {
          known(false);
          return locks.request(name, { signal: abort.signal }, take);
        }
        const held = take();
        known(!!held);
        return held;
      })
      .catch(() => known(null)); // after known(false) this is the leaving
  } catch {
    known(null);
  }
  return {
    known: whether,
    leave() {
      left = true;
      abort.abort();
      if (release) release();
    },
  };
}
