package session

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequestToken(t *testing.T) {
	cases := []struct {
		name       string
		auth       string
		cookie     string
		want       string
		wantSource TokenSource
	}{
		{"nothing", "", "", "", FromNowhere},
		{"cookie", "", "c", "c", FromCookie},
		{"bearer", "Bearer b", "", "b", FromBearer},
		{"bearer in another case", "bearer b", "", "b", FromBearer},
		{"bearer wins over the cookie", "Bearer b", "c", "b", FromBearer},
		{"an empty bearer names no token", "Bearer ", "c", "", FromNowhere},
		{"another scheme leaves the cookie", "Basic dXNlcjpwYXNz", "c", "c", FromCookie},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/ping", nil)
			if c.auth != "" {
				r.Header.Set("Authorization", c.auth)
			}
			if c.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: c.cookie})
			}
			got, src := RequestToken(r)
			if got != c.want || src != c.wantSource {
				t.Errorf("RequestToken = %q, %d; want %q, %d", got, src, c.want, c.wantSource)
			}
		})
	}
}

func TestHelloToken(t *testing.T) {
	if got, src := HelloToken("h", "c"); got != "h" || src != FromHello {
		t.Errorf("HelloToken(h, c) = %q, %d; want the frame's", got, src)
	}
	if got, src := HelloToken("", "c"); got != "c" || src != FromCookie {
		t.Errorf("HelloToken(\"\", c) = %q, %d; want the cookie's", got, src)
	}
	if got, src := HelloToken("", ""); got != "" || src != FromNowhere {
		t.Errorf("HelloToken(\"\", \"\") = %q, %d; want none", got, src)
	}
	r := httptest.NewRequest(http.MethodGet, "/ws", nil)
	r.Header.Set("Authorization", "Bearer b") // a WebSocket takes none
	if got := CookieToken(r); got != "" {
		t.Errorf("CookieToken without a cookie = %q", got)
	}
	r.AddCookie(&http.Cookie{Name: CookieName, Value: "c"})
	if got := CookieToken(r); got != "c" {
		t.Errorf("CookieToken = %q, want c", got)
	}
}
