// What presence refused, said for the developer who reads the console:
// the cause and the fix. The codes are presence's own (docs/protocol.md's
// table of error codes), but url_invalid: the client's own refusal of a
// url option it cannot use.

const FIXES = {
  origin_refused:
    "presence at {base} refuses this page's origin, {origin}: add PRESENCE_ALLOWED_ORIGINS={origin}, beside the others; presence logs the whole value",
  cross_site: "presence refuses a cross-site ping with its cookie: give the client the token (data-token, or the token option)",
  token_missing: "presence got no token: give the client one (data-token, or the token option), or set the presence cookie",
  token_invalid: "presence refuses the token: it was not signed with PRESENCE_SECRET (while rotating, keep the former secret in PRESENCE_OLD_SECRETS)",
  token_too_old:
    "presence refuses the token: older than PRESENCE_TOKEN_MAX_AGE, for a session it does not hold; mint one per page, or give the client refreshToken",
  claims_invalid: "presence refuses the token's claims: {message}",
  url_invalid: "presence cannot use the url option (data-url) {url}: give presence's base URL, such as https://presence.example.com, with no query or fragment",
};

// explain returns the console's text for a refusal with code: where holds
// base (presence's URL) and origin (the page's), message is presence's own
// word when it sent one.
export function explain(code, where, message) {
  const words = { ...where, message: message || code };
  return (FIXES[code] || "presence refuses this page: {message}").replace(/{(\w+)}/g, (_, word) => words[word]);
}
