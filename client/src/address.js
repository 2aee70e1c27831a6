// presence's address. The url option names presence by its base URL
// (https://presence.example.com, or https://example.com/presence behind
// the application's proxy) or by its WebSocket URL
// (wss://presence.example.com/ws); the client needs the base, for /ws,
// /ping and /presence.css.

// SCHEMES maps each scheme the url option may have to the base's.
const SCHEMES = { "http:": "http:", "https:": "https:", "ws:": "http:", "wss:": "https:" };

// baseUrl returns presence's base URL for url, resolved against the page
// (pageUrl), without a trailing slash: a WebSocket URL becomes http or
// https, without its /ws. It returns "" for a URL the client cannot use:
// one that does not parse, of another scheme, or with credentials, a
// query or a fragment, which would end up in every request.
export function baseUrl(url, pageUrl) {
  let u;
  try {
    u = new URL(url, pageUrl);
  } catch {
    return "";
  }
  const scheme = SCHEMES[u.protocol];
  if (!scheme || u.username || u.password || u.search || u.hash) return "";
  const path = u.pathname.replace(/\/+$/, "");
  return scheme + "//" + u.host + (scheme == u.protocol ? path : path.replace(/\/ws$/, ""));
}
