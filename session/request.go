package session

import (
	"net/http"
	"strings"
)

// CookieName is the cookie that may carry a token: the application sets
// it for the classic flow, and a WebSocket hello may leave its token out
// when the cookie comes with the upgrade.
const CookieName = cookieName

// TokenSource says where a token came from.
type TokenSource uint8

const (
	// FromNowhere: no token came.
	FromNowhere TokenSource = iota
	// FromHello: the token member of a hello frame.
	FromHello
	// FromBearer: an Authorization: Bearer header.
	FromBearer
	// FromCookie: the presence cookie.
	FromCookie
)

// HelloToken returns the token of a WebSocket hello: the frame's own, else
// cookie, the CookieToken of the upgrade request. A WebSocket takes no
// Authorization header: browsers cannot send one.
func HelloToken(frameToken, cookie string) (string, TokenSource) {
	switch {
	case frameToken != "":
		return frameToken, FromHello
	case cookie != "":
		return cookie, FromCookie
	}
	return "", FromNowhere
}

// RequestToken returns the token of an HTTP request: an Authorization
// Bearer header's (the scheme in any case), else the presence cookie's.
// Never a URL's: a URL ends up in logs and Referer headers.
func RequestToken(r *http.Request) (string, TokenSource) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if scheme, token, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
			// A Bearer header names the token even when it is empty: the
			// request then has none, whatever cookie came with it.
			if token = strings.TrimSpace(token); token != "" {
				return token, FromBearer
			}
			return "", FromNowhere
		}
	}
	if c := CookieToken(r); c != "" {
		return c, FromCookie
	}
	return "", FromNowhere
}

// CookieToken returns the value of r's presence cookie, or "".
func CookieToken(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}
