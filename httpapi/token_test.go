package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// withMaxAge gives the node a verifier on its clock with a token max age
// of maxAge, and the cookie settings given.
func withMaxAge(t *testing.T, maxAge time.Duration, cookie func(*Options)) func(*hub.Options, *Options) {
	return func(h *hub.Options, o *Options) {
		v, err := session.NewVerifier(session.VerifierOptions{Secret: testSecret, MaxAge: maxAge,
			Defaults: session.Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second}, Clock: h.Clock})
		if err != nil {
			t.Fatal(err)
		}
		h.Verifier, o.Verifier = v, v
		if cookie != nil {
			cookie(o)
		}
	}
}

// pingWith pings with header set on the request, and returns the answer.
func (e *env) pingWith(t *testing.T, query string, header http.Header, cookie string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/ping"+query, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// A live page's token, older than the max age, is served by /ping as by
// hello; one of a session presence does not know is "logout" to the
// classic script, and a 401 with a JSON error to presence.js.
func TestPingOldTokenOfALiveSession(t *testing.T) {
	e := newEnv(t, withMaxAge(t, time.Hour, nil))
	claims := session.Claims{SID: "live", WarnAfter: 3 * 3600, ExpireAfter: 4 * 3600}
	live := e.mint(claims)
	claims.SID = "unknown"
	unknown := e.mint(claims)
	e.dial(t).Hello(live, 0)
	e.advance(2 * time.Hour)
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	if resp, body := e.pingWith(t, "?idleFor=7200", bearer(live), ""); resp.StatusCode != 200 || body != "7200" {
		t.Errorf("2 h old token of a live session: %d %s, want the idle seconds", resp.StatusCode, body)
	}
	if resp, body := e.pingWith(t, "?idleFor=5", bearer(unknown), ""); resp.StatusCode != 200 || body != `"logout"` {
		t.Errorf("2 h old token of an unknown session: %d %s, want \"logout\"", resp.StatusCode, body)
	}
	for name, h := range map[string]http.Header{
		"old token": {"Authorization": {"Bearer " + unknown}, "Presence-Client": {"1"}},
		"no token":  {"Presence-Client": {"1"}},
		"garbage":   {"Authorization": {"Bearer nope"}, "Presence-Client": {"1"}},
	} {
		resp, body := e.pingWith(t, "?idleFor=5", h, "")
		var ans struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal([]byte(body), &ans)
		want := map[string]string{"old token": protocol.CodeTokenTooOld, "no token": protocol.CodeTokenMissing, "garbage": protocol.CodeTokenInvalid}[name]
		if resp.StatusCode != http.StatusUnauthorized || ans.Error.Code != want || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with Presence-Client: %d %s, want 401 %s", name, resp.StatusCode, body, want)
		}
	}
}

// A cookie half the max age old comes back fresh, with the documented
// attributes; hello takes the fresh one. A younger one, or one sent as a
// Bearer header, does not.
func TestPingRefreshesTheCookie(t *testing.T) {
	e := newEnv(t, withMaxAge(t, 6*time.Second, func(o *Options) { o.CookieDomain = "example.com"; o.CookieSecure = CookieSecureAlways }))
	tok := e.token("s1")
	e.dial(t).Hello(tok, 0)
	e.advance(2 * time.Second)
	if resp, _ := e.pingWith(t, "", nil, tok); len(resp.Cookies()) != 0 {
		t.Errorf("a 2 s old cookie was refreshed: %v", resp.Cookies())
	}
	e.advance(3 * time.Second)
	if resp, _ := e.pingWith(t, "", http.Header{"Authorization": {"Bearer " + tok}}, ""); len(resp.Cookies()) != 0 {
		t.Errorf("a Bearer token got a cookie: %v", resp.Cookies())
	}
	resp, body := e.pingWith(t, "", nil, tok)
	cookies := resp.Cookies()
	if body != "0" || len(cookies) != 1 {
		t.Fatalf("a 5 s old cookie: %s, cookies %v; want one fresh cookie", body, cookies)
	}
	c := cookies[0]
	if c.Name != "presence" || c.Path != "/" || c.Domain != "example.com" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie = %+v, want presence; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax", c)
	}
	e.advance(3 * time.Second) // the first token is now past the max age
	if st := e.dial(t).Hello(c.Value, 0); st.Status != protocol.StatusActive {
		t.Errorf("hello with the fresh cookie's token: %+v", st)
	}
}

// No fresh cookie for a session that has ended.
func TestPingRefreshesNoEndedSession(t *testing.T) {
	e := newEnv(t, withMaxAge(t, 6*time.Second, nil))
	tok := e.token("s1")
	e.ping(t, tok, "")
	e.api(t, "POST", "/api/v1/sessions/s1/logout", testAPIKey, "")
	e.advance(4 * time.Second)
	if resp, body := e.pingWith(t, "", nil, tok); body != `"logout"` || len(resp.Cookies()) != 0 {
		t.Errorf("after logout: %s, cookies %v; want \"logout\" and none", body, resp.Cookies())
	}
}

func TestCookieSecure(t *testing.T) {
	for _, c := range []struct {
		setting CookieSecure
		https   string // X-Forwarded-Proto
		want    bool
	}{
		{CookieSecureAuto, "", false},
		{CookieSecureAuto, "https", true},
		{CookieSecureAuto, "http", false},
		{CookieSecureAlways, "", true},
		{CookieSecureNever, "https", false},
	} {
		s := &Server{opts: Options{CookieSecure: c.setting}}
		req, _ := http.NewRequest(http.MethodGet, "http://presence.test/ping", nil)
		if c.https != "" {
			req.Header.Set("X-Forwarded-Proto", c.https)
		}
		if got := s.cookieSecure(req); got != c.want {
			t.Errorf("setting %d, X-Forwarded-Proto %q: Secure %v, want %v", c.setting, c.https, got, c.want)
		}
	}
}
