// The claims of a presence token, read without checking the signature:
// presence checks it. The client only needs the limits, the session id
// and the logout URL that the application put there.

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
