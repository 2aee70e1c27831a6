// The statuses of a tab and the transitions that change what the person
// sees. Only enter changes `view`, the one thing the dialog renders; the
// table in docs/client.md lists every status, the events that leave it and
// what the person sees.
//
// A transition works on a draft: t.state is a copy of the state that the
// event found, t.at the instant of the event, and t.effects the list of
// what the page must do (send a frame, set a timer, emit an event, ...).

import { LOGOUT_WAIT_MS } from "./timeline.js";

// VIEWS maps each status that hides the page, or some of it, to what the
// person sees. The link statuses show the page as it is:
//   connecting: a WebSocket is opening, or waits for presence's first word
//   live: presence spoke on the open WebSocket
//   alone: no link: a retry is scheduled, or a fresh token awaited
//   fallback: on the classic /ping
//   refused: presence refused the page's origin or token: /ping is asked until it answers
const VIEWS = {
  warned: "dialog", // the warning dialog over the page
  checking: "covered", // the deadline passed: the content is covered until presence answers
  ended: "ended", // the content hidden for good, the "ended" text shown
  stopped: "gone", // stop() handed the page back
};

// terminal reports whether nothing but stop() moves the tab any more.
export const terminal = state => state.status == "ended" || state.status == "stopped";

// effect asks the page to do something once the transition is over.
export function effect(t, type, fields) {
  t.effects.push({ type, ...fields });
}

// emit hands an event to the page's listeners.
export const emit = (t, name, detail) => effect(t, "emit", { name, detail });

// timer sets the named timer to fire in ms, or clears it when ms is absent.
export const timer = (t, name, ms) => effect(t, "timer", { name, ms });

// send sends a frame on the WebSocket, if one is open.
export function send(t, frame) {
  if (t.state.socket == "open") effect(t, "send", { frame });
}

// share tells the other tabs of this browser about the last activity.
export const share = t => effect(t, "share", { lastActivity: t.state.lastActivity });

// enter moves the tab to status and shows what that status shows.
export function enter(t, status) {
  t.state.status = status;
  t.state.view = VIEWS[status] || "page";
}

// setLink records the state of the link; it shows only while neither the
// warning, a check nor an end covers it.
export function setLink(t, link) {
  t.state.link = link;
  if (!VIEWS[t.state.status]) enter(t, link);
}

// uncover leaves checking: presence answered, and the page may show.
export function uncover(t) {
  if (t.state.status == "checking") enter(t, t.state.link);
}

// log writes a line on the console.
export const log = (t, level, text) => effect(t, "log", { level, text });

// warn shows the warning, ending in ms. The page and the other tabs hear
// of it once, however often presence repeats it; the page gets the end as
// an instant of the browser's clock too (expiresAt), for a countdown of
// its own.
export function warn(t, ms, mirrored) {
  const s = t.state;
  s.expiresAt = t.at + ms;
  // The absolute end's warning, once the person said OK here, stays away
  // (see notice).
  if (s.expiresAt > s.noticed - 2e3) return;
  if (s.status != "warned") enter(t, "warned");
  if (s.warning) return;
  s.warning = true;
  if (!mirrored) effect(t, "post", { message: { k: "w", e: s.expiresAt } });
  emit(t, "warn", { expireInMs: ms, expiresAt: s.expiresAt });
}

// forEnd reports whether the warning is for the absolute end.
export const forEnd = s => s.expiresAt > s.endsAt - 2e3;

// notice is "OK" on the warning of the absolute end: it hides here for
// good (state.noticed, absent until then, is the end it was for), and the
// end stays where it is.
export function notice(t) {
  t.state.noticed = t.state.endsAt;
  unwarn(t, true);
}

// unwarn withdraws the warning: activity in some tab, or "Stay signed in".
export function unwarn(t, mirrored) {
  const s = t.state;
  if (!s.warning) return;
  s.warning = false;
  if (s.status == "warned") enter(t, s.link);
  if (!mirrored) effect(t, "post", { message: { k: "s" } });
  emit(t, "active", {});
}

// halt closes the link and clears every timer: nothing will run again.
function halt(t) {
  t.state.socket = "none";
  effect(t, "halt");
}

// localEnd is the expire frame presence would have sent, for an end the
// tab decides itself (a close 4410, a "logout" answer, a logout unsent).
export const localEnd = (state, reason) => ({ reason, redirect_url: state.claims.logout_url });

// expire ends the page: the content hides at once; then the page leaves
// for the redirect URL, unless a listener keeps it. A page that never heard
// from presence does not reload, so a page born expired cannot loop.
export function expire(t, frame, mirrored) {
  const s = t.state;
  enter(t, "ended");
  halt(t);
  if (!mirrored) effect(t, "post", { message: { k: "x", f: frame } });
  effect(t, "leave", {
    reason: frame.reason || "idle",
    redirectUrl: frame.redirect_url || s.options.logoutUrl || "",
    reload: !!s.heard,
  });
}

// stop hands the page back to the application.
export function stop(t) {
  enter(t, "stopped");
  halt(t);
}

// logout ends the session in every tab: presence answers the frame with
// expire; without a socket, or without an answer in time, the tab ends
// itself.
export function logout(t) {
  if (t.state.socket != "open") return expire(t, localEnd(t.state, "logout"));
  send(t, { type: "logout" });
  timer(t, "logout", LOGOUT_WAIT_MS);
}
