// start wires one client: the state machine in the middle, and around it
// what it cannot do itself because it is pure: the clock, the DOM, the
// transports, the timers and the other tabs. Each of those reports events
// to dispatch; dispatch runs them through the machine one at a time,
// renders the view the machine decided, then carries out its effects.

import { guardUnload, trackActivity } from "./activity.js";
import { baseUrl } from "./address.js";
import { openChannel } from "./channel.js";
import { createDialog } from "./dialog.js";
import { createEmitter } from "./events.js";
import { leave } from "./leave.js";
import { transition } from "./machine.js";
import { forEnd } from "./status.js";
import { TEXTS } from "./texts.js";
import { readClaims } from "./token.js";
import { askPing, openSocket } from "./transports.js";

let started = 0; // numbers the clients of a page, for the dialog's ids

// start starts the client and returns its handle. scriptUrl is where the
// client was loaded from: presence's default base URL.
export function start(options = {}, scriptUrl) {
  const texts = { ...TEXTS };
  for (const key in options.texts) if (options.texts[key] != null) texts[key] = options.texts[key];
  const loadedFrom = scriptUrl ? new URL(scriptUrl).origin : location.origin;
  const base = baseUrl(options.url || loadedFrom, location.href); // "" refuses the url option
  const events = createEmitter();
  const removers = [];
  const listen = (target, type, listener, opts) => {
    target.addEventListener(type, listener, opts);
    removers.push(() => target.removeEventListener(type, listener, opts));
  };
  const timers = {};
  const queue = [];
  let state, socket, leaving = false;

  // dispatch stamps an event with the clock and a random number, and runs
  // it through the machine; an event reported while another runs (a socket
  // that fails at once, a listener that calls the handle) waits its turn.
  // An error is thrown again on its own, so that the next event still runs.
  const dispatch = event => {
    queue.push({ ...event, at: Date.now(), jitter: Math.random() });
    if (queue.length > 1) return;
    while (queue.length) {
      try {
        const next = transition(state, queue[0]);
        state = next.state;
        dialog.render(state.view, state.expiresAt - queue[0].at, forEnd(state) && state.endsAt);
        for (const effect of next.effects) carryOut(effect);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
      queue.shift();
    }
  };

  const closeSocket = () => {
    if (socket) socket.close();
    socket = null;
  };

  // later opens the WebSocket through the shared socket's module once it
  // is loaded; until then the tab's socket sends nothing.
  const later = () => {
    const pending = { send() {}, close() {} };
    sharing.then(open => socket == pending && (socket = open(base, dispatch)));
    return pending;
  };

  const carryOut = effect => {
    switch (effect.type) {
      case "send":
        return socket && socket.send(effect.frame);
      case "connect":
        return (socket = sharing ? later() : openSocket(base, dispatch));
      case "close":
        return closeSocket();
      case "ask":
        return askPing(base, effect, dispatch);
      case "timer":
        clearTimeout(timers[effect.name]);
        if (effect.ms != null) timers[effect.name] = setTimeout(() => dispatch({ type: "timer", name: effect.name }), effect.ms);
        return;
      case "share":
        return channel.share(effect.lastActivity);
      case "post":
        return channel.post(effect.message);
      case "emit":
        return events.emit(effect.name, effect.detail);
      case "refresh":
        return Promise.resolve()
          .then(options.refreshToken)
          .then(token => dispatch({ type: "token", token }), () => dispatch({ type: "noToken" }));
      case "log":
        return console[effect.level](effect.text);
      case "halt":
        closeSocket();
        for (const name in timers) clearTimeout(timers[name]);
        return clearInterval(ticking);
      case "leave":
        leave(effect, options, events.emit, dialog.root, () => (leaving = true));
    }
  };

  const claims = readClaims(options.token);
  const name = "presence:" + (claims.sid || base);
  const channel = openChannel(name, message => dispatch({ type: "tab", message }));
  // One WebSocket per browser, where the page asks for it: from the
  // module of the shared socket, which only the pages that ask for it
  // load. Where it does not load, the tab keeps a WebSocket of its own.
  const sharing =
    options.shareSocket &&
    base &&
    import(base + "/presence-share.mjs").then(
      module => module.shareSocket(name, openSocket),
      () => openSocket,
    );
  const dialog = createDialog(texts, "presence-" + ++started, listen, () => dispatch({ type: "extend" }), () => dispatch({ type: "logout" }), options.dialog !== false);
  trackActivity(listen, dialog.contains, () => dispatch({ type: "activity" }));
  // Back from sleep, the background or the back-forward cache: the clock
  // may have jumped past a deadline that no timer saw.
  const wake = e => document.hidden || dispatch({ type: "wake", persisted: e.persisted, online: e.type == "online" });
  listen(document, "visibilitychange", wake);
  listen(document, "resume", wake);
  for (const type of ["pageshow", "focus", "online"]) listen(window, type, wake);
  if (options.confirmUnload) guardUnload(listen, () => leaving);
  if (options.css !== false && !document.querySelector("link.presence-css")) {
    const link = (document.head || document.documentElement).appendChild(document.createElement("link"));
    link.className = "presence-css";
    link.rel = "stylesheet";
    // Even beside a url it cannot use, the cover needs the stylesheet.
    link.href = (base || loadedFrom) + "/presence.css";
  }
  const ticking = setInterval(() => dispatch({ type: "tick" }), 1e3);
  dispatch({ type: "start", options: { ...options, refreshToken: !!options.refreshToken, base, origin: location.origin }, stored: channel.stored() });

  const handle = {
    activity: () => dispatch({ type: "activity" }),
    extend: () => dispatch({ type: "extend" }),
    logout: () => dispatch({ type: "logout" }),
    stop() {
      dispatch({ type: "stop" });
      removers.forEach(remove => remove());
      channel.close();
    },
    on(type, listener) {
      events.on(type, listener);
      return handle;
    },
    off(type, listener) {
      events.off(type, listener);
      return handle;
    },
  };
  return handle;
}
