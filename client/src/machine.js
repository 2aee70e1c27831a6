// The state machine of one tab. transition takes a state and an event and
// returns the next state and the effects the page must carry out. It reads
// no clock, touches no DOM and opens no socket: the page stamps each event
// with its instant (at) and a random number (jitter), so tests drive every
// path with plain objects. docs/client.md tables the statuses.

import * as time from "./timeline.js";
import { answered, ask, check, closed, connect, frame, opened, reconnect, token, useToken } from "./link.js";
import { expire, localEnd, logout, refuse, send, share, stop, terminal, timer, unwarn, warn } from "./status.js";

// initial is the state of a tab that starts now (at). options are the
// client's options; storedActivity is the last activity another tab of
// this browser recorded, or 0.
function initial({ options, stored: storedActivity, at }) {
  const state = {
    options,
    status: "connecting",
    view: "page", // what the person sees: page, dialog, hidden, ended or gone
    link: "connecting", // connecting, live, alone or fallback, under any warning or check
    socket: "none", // the WebSocket: none, opening or open
    lastActivity: options.passive && storedActivity ? storedActivity : at,
    sentAt: 0, // when activity last went to presence
    heardAt: 0, // when presence last spoke on the socket
    expiresAt: 0, // presence's last word on the end, as an instant of this clock
    attempt: 0, // WebSocket tries since one opened, for the backoff
    failures: 0, // WebSockets in a row that never opened
    heard: false, // presence answered this page once
    warning: false, // the page was told of a warning not withdrawn since
    greeted: false, // a hello went out
    refreshed: false, // refreshToken was called since presence last answered
    asking: false, // a /ping is out
    askAgain: false,
    flushing: false, // an activity report waits for the throttle
  };
  useToken(state, options.token);
  const t = { state, at, effects: [] };
  if (!options.passive) share(t);
  if (options.transport == "ping") {
    state.status = state.link = "fallback";
    ask(t);
  } else connect(t);
  return { state, effects: t.effects };
}

// transition applies event to state; the first event is start. Every
// event but stop is ignored once the tab ended or was refused.
export function transition(state, event) {
  if (event.type == "start") return initial(event);
  const t = { state: { ...state }, at: event.at, jitter: event.jitter, effects: [] };
  if (event.type == "stop") {
    if (state.status != "stopped") stop(t);
  } else if (!terminal(state)) handlers[event.type](t, event);
  return { state: t.state, effects: t.effects };
}

// flush sends the activity seen so far: over the WebSocket, or on the
// classic flow by a /ping, but only while the warning shows.
function flush(t) {
  const s = t.state;
  timer(t, "flush");
  s.flushing = false;
  s.sentAt = t.at;
  share(t);
  if (s.link != "fallback") send(t, { type: "activity", idle_ms: time.idleMs(t.at, s.lastActivity) });
  else if (s.status == "warned") ask(t);
}

const handlers = {
  // activity goes out at once after a quiet spell, then at most once a
  // throttle interval, so an active person is never warned.
  activity(t) {
    const s = t.state;
    if (s.status == "warned" && s.options.requireButton) return;
    s.lastActivity = t.at;
    const wait = s.sentAt + time.throttleMs(s.limits) - t.at;
    if (wait <= 0) flush(t);
    else if (!s.flushing) {
      s.flushing = true;
      timer(t, "flush", wait);
    }
  },

  // extend is "Stay signed in": the warning hides here at once.
  extend(t) {
    const s = t.state;
    s.lastActivity = s.sentAt = t.at;
    share(t);
    unwarn(t);
    if (s.link == "fallback") ask(t);
    else send(t, { type: "extend" });
  },

  logout,
  opened,
  frame,
  closed,
  answered,
  token,
  noToken: refuse,

  timer(t, { name }) {
    if (name == "flush") flush(t);
    else if (name == "reconnect") connect(t);
    else if (name == "ping") ask(t);
    else if (name == "logout") expire(t, localEnd(t.state, "logout"));
  },

  // tick runs every second. Timers of a sleeping laptop or a background
  // tab run late or not at all, so it goes by the clock: a deadline well
  // past hides the page until presence answers; a silent socket is dead.
  tick(t) {
    const s = t.state;
    if (s.status != "checking" && t.at > deadlineOf(s) + time.LATE_MS) check(t);
    else if (s.socket == "open" && t.at - s.heardAt > time.DEAD_LINK_MS) reconnect(t);
  },

  // wake is the page coming back: visible again, focused, resumed, online,
  // or restored from the back-forward cache (persisted).
  wake(t, { persisted, online }) {
    const s = t.state;
    if (s.status != "checking" && t.at > deadlineOf(s)) check(t);
    else if (persisted) reconnect(t);
    else if (s.link != "fallback") connect(t);
    else if (online) {
      ask(t);
      if (s.options.transport != "ping") connect(t);
    }
  },

  // tab is a message from another tab of this browser and session.
  tab(t, { message: m }) {
    const s = t.state;
    if (m.k == "a") s.lastActivity = time.latestActivity(s.lastActivity, m.t);
    else if (m.k == "w") {
      // Not while checking: only presence may show the page again.
      if (s.status != "checking" && !time.staleWarning(t.at, s.lastActivity, s.limits)) warn(t, m.e - t.at, true);
    } else if (m.k == "s") unwarn(t, true);
    else if (m.k == "x") expire(t, m.f, true);
  },
};

function deadlineOf(state) {
  return time.deadline(state.expiresAt, state.lastActivity, state.limits);
}
