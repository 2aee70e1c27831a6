// The claims of a presence token, read without checking the signature:
// presence checks it. The client only needs the limits, the absolute end,
// the session id and the logout URL that the application put there.

import { knownLimits } from "./timeline.js";

// useToken adopts a token: the newest goes with every hello and /ping.
// The limits it names count until a state frame names presence's, and
// its absolute end (end_at) until presence announces the session's, so
// that a page that never reached presence still ends then.
export function useToken(state, token) {
  state.token = token || "";
  state.claims = readClaims(state.token);
  state.limits = knownLimits(state.stated, state.claims, state.options);
  const end = state.claims.end_at * 1e3;
  if (end < state.endsAt) state.endsAt = end;
}

// readClaims returns the JSON payload of a gorilla/securecookie token,
// base64url(timestamp|base64url(json)|mac), or {} for anything else.
export function readClaims(token) {
  try {
    const decode = text => atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const json = decode(decode(token).split("|")[1]);
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, c => c.charCodeAt(0))));
  } catch {
    return {};
  }
}
