// The transports to presence, behind one small interface: each reports
// what happens as events of the state machine ({type: "opened"}, "frame",
// "closed" or "answered"), and a WebSocket can be sent frames and closed.

// openSocket opens presence's WebSocket (protocol v1) at base. A socket
// closed by close() reports nothing more.
export function openSocket(base, report) {
  let socket, wasOpen = false;
  try {
    socket = new WebSocket(base.replace(/^http/, "ws") + "/ws", "presence.v1");
  } catch {
    report({ type: "closed", code: 0, wasOpen });
    return { send() {}, close() {} };
  }
  socket.onopen = () => {
    wasOpen = true;
    report({ type: "opened", path: location.pathname.slice(0, 256) });
  };
  socket.onmessage = e => report({ type: "frame", frame: JSON.parse(e.data) });
  socket.onclose = e => report({ type: "closed", code: e.code, wasOpen });
  return {
    send: frame => socket.readyState == 1 && socket.send(JSON.stringify(frame)),
    close() {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close(1000);
    },
  };
}

// askPing asks the classic GET /ping how long the session has been idle,
// and reports the answer: seconds idle, "logout", or undefined when there
// was no usable answer; or what presence refused ({status, code,
// message}). The cookie goes along, and so does the token, if any; the
// header Presence-Client makes presence answer a refused token with 401,
// not "logout".
export async function askPing(base, { idleFor, token }, report) {
  let value, refused;
  try {
    const headers = { "Presence-Client": "1" };
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch(base + "/ping?idleFor=" + idleFor, { credentials: "include", cache: "no-store", headers });
    const body = await response.json().catch(() => null);
    const { status } = response;
    if (response.ok) value = body;
    else if (status == 401 || status == 403) refused = { status, code: status == 401 ? "token_invalid" : "origin_refused", ...(body && body.error) };
  } catch {
    // A page whose origin presence refuses sees no answer at all, as if
    // presence were down; but presence's own files load from anywhere.
    if (new URL(base).origin != location.origin) {
      refused = await fetch(base + "/presence.css", { method: "HEAD", cache: "no-store" }).then(
        () => ({ status: 403, code: "origin_refused" }),
        () => {},
      );
    }
  }
  report({ type: "answered", value, refused });
}
