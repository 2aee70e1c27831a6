// The texts the client shows, in English; options.texts and the
// data-text-* attributes replace them.

export const TEXTS = {
  title: "Your session is about to end",
  body: "For your security, you will be signed out in {time}.",
  stay: "Stay signed in",
  logout: "Log out",
  ends: "Your session ends at {end}; save your work.", // the warning of an absolute end
  ok: "OK",
  ended: "Your session has ended.",
  covered: "Your session may have ended. Reconnecting\u2026",
  titleCue: "\u26a0 ", // before the page title while the warning shows
};
