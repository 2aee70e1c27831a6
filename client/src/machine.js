// The state machine of one tab. transition takes a state and an event and
// returns the next state and the effects the page must carry out. It reads
// no clock, touches no DOM and opens no socket: the page stamps each event
// with its instant (at) and a random number (jitter), so tests drive every
// path with plain objects. docs/client.md tables the statuses.

import * as time from "./timeline.js";
import { answered, ask, closed, connect, frame, opened, pinging, reconnect, refuse, token } from "./link.js";
import { useToken } from "./token.js";
import { enter, expire, forEnd, localEnd, log, logout, notice, send, share, stop, terminal, timer, unwarn, warn } from "./status.js";

// initial is the state of a tab that starts now (at). options are the
// client's options, with presence's base URL (base, or "" for a url
// option the client cannot use) and the page's origin;
// storedActivity is the last activity another tab of this browser
// recorded, or 0.
function initial({ options, stored: storedActivity, at }) {
  const state = {
    options,
    status: "connecting",
    view: "page", // what the person sees: page, dialog, covered, ended or gone
    link: "connecting", // connecting, live, alone, fallback or refused, under any warning or cover
    socket: "none", // the WebSocket: none, opening or open
    lastActivity: options.passive && storedActivity ? storedActivity : at,
    sentAt: 0, // when activity last went to presence
    heardAt: 0, // when presence last spoke on the socket
    expiresAt: 0, // presence's last word on the end, as an instant of this clock
    endsAt: Infinity, // an absolute end presence announced, which activity cannot move
    stated: null, // the limits of presence's last state frame
    attempt: 0, // tries since presence last answered, for the backoff
    failures: 0, // WebSockets in a row that never opened
    // And, absent (false) until they are set:
    //   heard: presence answered this page once
    //   contact: the WebSocket is live, or the last /ping answered
    //   refusal: the code of the refusal last reported, until presence answers
    //   unlimited: the console was told that no limits are known
    //   warning: the page was told of a warning not withdrawn since
    //   greeted: a hello went out
    //   refreshed: refreshToken was called since presence last answered
    //   asking: a /ping is out; askAgain: ask once it is in
    //   flushing: an activity report waits for the throttle
  };
  useToken(state, options.token);
  const t = { state, at, effects: [] };
  if (!options.passive) share(t);
  if (!options.base) {
    // A url the client cannot use: refused, on its own clock from the
    // start. The refusal is said at the first timer, once start() has
    // returned the handle that the page listens to.
    state.status = state.link = "refused";
    timer(t, "ping", 0);
  } else if (options.transport == "ping") {
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
  if (!pinging(s)) send(t, { type: "activity", idle_ms: time.idleMs(t.at, s.lastActivity) });
  else if (s.status == "warned") ask(t);
}

// byOwnClock applies the last limits the tab learned to the browser's own
// idle time while presence cannot be heard: the warning, withdrawn when
// activity here or in another tab puts the end off, then the cover at the
// end. The tab never leaves on its own: presence's word decides.
function byOwnClock(t) {
  const s = t.state;
  if (s.contact || s.status == "checking") return;
  if (!s.limits && !s.unlimited && s.link != "connecting") {
    s.unlimited = true;
    log(t, "warn", "presence: no limits known (from presence, the token, or data-warn-after and data-expire-after): no deadline here");
  }
  const end = deadlineOf(s), status = time.localStatus(t.at, end, s.limits);
  if (status == "checking") return check(t);
  if (status == "warned") warn(t, end - t.at, true);
  else if (s.status == "warned") unwarn(t, true);
  // The tick is a second apart: a timer keeps the warning and the cover
  // on time.
  const next = status == "page" && s.limits ? end - s.limits.expireMs + s.limits.warnMs : end;
  if (next < Infinity) timer(t, "deadline", next - t.at);
}

// check covers the page content until presence says whether the session
// is still alive: the deadline passed (the laptop slept, the background
// tab's timers were throttled, presence could not be reached).
function check(t) {
  enter(t, "checking");
  reconnect(t);
}

const handlers = {
  // activity goes out at once after a quiet spell, then at most once a
  // throttle interval, so an active person is never warned.
  // A covered page is not uncovered by activity, nor does it count: the
  // session may have ended.
  activity(t) {
    const s = t.state;
    if (s.status == "checking" || (s.status == "warned" && s.options.requireButton)) return;
    s.lastActivity = t.at;
    byOwnClock(t);
    const wait = s.sentAt + time.throttleMs(s.limits || time.DEFAULTS) - t.at;
    if (wait <= 0) flush(t);
    else if (!s.flushing) {
      s.flushing = true;
      timer(t, "flush", wait);
    }
  },

  // extend is "Stay signed in": the warning hides here at once; before
  // the absolute end it is "OK" (notice).
  extend(t) {
    const s = t.state;
    if (forEnd(s)) return notice(t);
    s.lastActivity = s.sentAt = t.at;
    share(t);
    unwarn(t);
    if (pinging(s)) ask(t);
    else send(t, { type: "extend" });
  },

  logout,
  opened,
  frame,
  closed,
  answered,
  token,
  noToken: t => refuse(t, t.state.lastError),

  timer(t, { name }) {
    if (name == "flush") flush(t);
    else if (name == "reconnect") connect(t);
    else if (name == "ping") ask(t);
    else if (name == "logout") expire(t, localEnd(t.state, "logout"));
    else if (name == "deadline") byOwnClock(t);
  },

  // tick runs every second. Timers of a sleeping laptop or a background
  // tab run late or not at all, so it goes by the clock: without contact by
  // the tab's own rules; with it, a deadline well past covers the page
  // until presence answers. A silent socket is dead.
  tick(t) {
    const s = t.state;
    if (!s.contact) byOwnClock(t);
    else if (s.status != "checking" && t.at > deadlineOf(s) + time.LATE_MS) check(t);
    if (s.socket == "open" && t.at - s.heardAt > time.DEAD_LINK_MS) reconnect(t);
  },

  // wake is the page coming back: visible again, focused, resumed, online,
  // or restored from the back-forward cache (persisted).
  wake(t, { persisted, online }) {
    const s = t.state;
    if (s.status != "checking" && t.at > deadlineOf(s)) check(t);
    else if (persisted) reconnect(t);
    else if (!pinging(s)) connect(t);
    else if (online) {
      ask(t);
      if (s.options.transport != "ping") connect(t);
    }
  },

  // tab is a message from another tab of this browser and session.
  tab(t, { message: m }) {
    const s = t.state;
    if (m.k == "a") {
      s.lastActivity = time.latestActivity(s.lastActivity, m.t);
      byOwnClock(t);
    } else if (m.k == "w") {
      // Not while checking: only presence may show the page again.
      if (s.status != "checking" && !time.staleWarning(t.at, s.lastActivity, s.limits || time.DEFAULTS)) warn(t, m.e - t.at, true);
    } else if (m.k == "s") unwarn(t, true);
    else if (m.k == "x") expire(t, m.f, true);
  },
};

function deadlineOf(state) {
  return time.deadline(state.expiresAt, state.lastActivity, state.limits, state.endsAt);
}
