// Helpers for the unit tests of the pure modules (node --test); nothing
// of the bundle imports this file.

import { transition } from "./machine.js";
import { shareSocket } from "./share.js";

// T0 is an instant of the browser's clock at which tests start.
export const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

const base64url = text => Buffer.from(text).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");

// tokenWith makes a token shaped as presence's (gorilla/securecookie,
// JSON serializer) around claims, with a made-up signature: the client
// reads tokens, it never checks them.
export function tokenWith(claims) {
  return base64url(`1736154000|${base64url(JSON.stringify(claims))}|not-a-real-mac`);
}

// A session that warns after 60 s and ends after 120 s.
export const TOKEN = tokenWith({ sid: "s1", warn_after: 60, expire_after: 120, logout_url: "/bye" });

// Where presence and the page under test are.
export const BASE = "https://presence.example", ORIGIN = "https://app.example";

// Tab is a tab under test: events go through the machine at the instant
// the test has moved its clock to, with a fixed jitter. stored is the last
// activity other tabs left in localStorage; now is where the clock starts.
export class Tab {
  constructor(options = {}, stored = 0, now = T0) {
    this.now = now;
    this.jitter = 0.5;
    this.send({ type: "start", options: { token: TOKEN, base: BASE, origin: ORIGIN, ...options }, stored });
  }

  // send applies event now and keeps the effects it asked for.
  send(event) {
    const next = transition(this.state, { jitter: this.jitter, ...event, at: this.now });
    this.state = next.state;
    this.effects = next.effects;
    return this;
  }

  // after moves the clock by ms, then applies event.
  after(ms, event) {
    this.now += ms;
    return this.send(event);
  }

  // open opens the WebSocket and hears presence's state: active, with
  // expireInMs left.
  open(expireInMs = 120e3, status = "active") {
    this.send({ type: "opened", path: "/p" });
    return this.frame({ type: "state", status, idle_ms: 120e3 - expireInMs, warn_after_ms: 60e3, expire_after_ms: 120e3, expire_in_ms: expireInMs });
  }

  frame(frame) {
    return this.send({ type: "frame", frame });
  }

  // of returns the effects of a type.
  of(type) {
    return this.effects.filter(e => e.type == type);
  }

  // sent returns the frames the last event sent.
  sent() {
    return this.of("send").map(e => e.frame);
  }

  // emitted returns the names of the events the page's listeners got.
  emitted() {
    return this.of("emit").map(e => (e.name == "connection" ? "connection:" + e.detail.status : e.name));
  }

  // logged returns the console lines the last event wrote, as "level: text".
  logged() {
    return this.of("log").map(e => e.level + ": " + e.text);
  }

  // ticks moves the clock a second at a time for ms, with a tick each
  // second, and returns the effects of them all.
  ticks(ms) {
    const all = [];
    for (let left = ms; left > 0; left -= 1e3) all.push(...this.after(Math.min(1e3, left), { type: "tick" }).effects);
    this.effects = all;
    return this;
  }

  // timer returns the delay the last event set the named timer to, or
  // null when it cleared it, or undefined when it left it alone.
  timer(name) {
    const set = this.of("timer").filter(e => e.name == name).pop();
    return set && (set.ms ?? null);
  }
}

// The stand-ins of the shared socket's tests (share.test.js).

// fakeLocks is a LockManager of one browser, enough for shareSocket:
// exclusive locks, ifAvailable, an abort signal, query().
export function fakeLocks() {
  const held = new Map(), waiting = [];
  const grant = (name, callback) => {
    held.set(name, true);
    return Promise.resolve(callback({ name })).finally(() => {
      held.delete(name);
      const next = waiting.findIndex(w => w.name == name);
      if (next >= 0) waiting.splice(next, 1)[0].start();
    });
  };
  return {
    request(name, options, callback) {
      if (!held.has(name)) return grant(name, callback);
      if (options.ifAvailable) return Promise.resolve(callback(null));
      return new Promise((resolve, reject) => {
        const w = { name, start: () => grant(name, callback).then(resolve, reject) };
        waiting.push(w);
        options.signal.addEventListener("abort", () => {
          const i = waiting.indexOf(w);
          if (i >= 0) waiting.splice(i, 1);
          reject(new Error("aborted"));
        });
      });
    },
    query: () => Promise.resolve({ pending: waiting.map(w => ({ name: w.name })) }),
  };
}

// fakeSockets stands in for openSocket: it records what is sent, and the
// test plays what presence does.
export function fakeSockets() {
  const opened = [];
  const open = (base, report) => {
    const s = { base, report, sent: [], closed: false };
    opened.push(s);
    return { send: f => s.sent.push(f), close: () => (s.closed = true) };
  };
  return { open, opened };
}

export const settle = (ms = 20) => new Promise(resolve => setTimeout(resolve, ms));

// sharedBrowser makes a browser for the shared socket's tests: a page's
// globals (self, location, a BroadcastChannel that lets Node exit), fresh
// Web Locks and a session. tab() opens a tab's link to presence, with its
// WebSockets (sockets), what its client heard (heard) and its open, for
// the client's next try; leader() opens a tab whose WebSocket is open.
export function sharedBrowser() {
  globalThis.self = globalThis;
  globalThis.location = { pathname: "/page" };
  if (!BroadcastChannel.unrefs) {
    globalThis.BroadcastChannel = class extends BroadcastChannel {
      static unrefs = true;
      constructor(name) {
        super(name);
        this.unref();
      }
    };
  }
  globalThis.navigator = { locks: fakeLocks() };
  const name = "presence:test-" + Math.random();
  const tab = () => {
    const sockets = fakeSockets(), heard = [], open = shareSocket(name, sockets.open);
    return { sockets, heard, open, link: open("https://p.example", e => heard.push(e)) };
  };
  return {
    name,
    tab,
    async leader() {
      const t = tab();
      await settle();
      t.ws = t.sockets.opened[0];
      t.ws.report({ type: "opened", path: "/" });
      return t;
    },
  };
}

// kinds names what a client heard: event types, and the timers by name.
export const kinds = heard => heard.map(e => e.type + (e.name ? ":" + e.name : ""));
