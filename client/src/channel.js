// The tabs of one browser and session share the last activity and mirror
// the warning and the end, through a BroadcastChannel; localStorage keeps
// the last activity for tabs opened later. Messages keep the short shape
// that every version of the client speaks, since tabs loaded before and
// after an upgrade meet on one channel:
//   {k: "a", t}  the last activity, an instant of this browser's clock
//   {k: "w", e}  the warning shows, ending at e
//   {k: "s"}     the warning hid
//   {k: "x", f}  the session ended, with presence's expire frame f

// openChannel opens the channel name; where a browser refuses storage or
// channels (a sandboxed frame), the tab simply goes alone.
export function openChannel(name, receive) {
  let channel;
  try {
    channel = new BroadcastChannel(name);
    channel.onmessage = e => receive(e.data);
  } catch {}
  const post = message => channel && channel.postMessage(message);
  return {
    post,
    // stored is the last activity another tab recorded, or 0.
    stored() {
      try {
        return +localStorage.getItem(name) || 0;
      } catch {
        return 0;
      }
    },
    share(lastActivity) {
      post({ k: "a", t: lastActivity });
      try {
        localStorage.setItem(name, lastActivity);
      } catch {}
    },
    close: () => channel && channel.close(),
  };
}
