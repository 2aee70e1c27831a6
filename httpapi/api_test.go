package httpapi

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

func TestAPIRefusals(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		{"no key", "GET", "/api/v1/sessions/s1", "", "", 401, "unauthorized"},
		{"wrong key", "GET", "/api/v1/sessions/s1", "nope", "", 401, "unauthorized"},
		{"key with a suffix", "GET", "/api/v1/sessions/s1", testAPIKey + "x", "", 401, "unauthorized"},
		{"bad sid", "GET", "/api/v1/sessions/a%20b", testAPIKey, "", 400, "bad_request"},
		{"unknown endpoint", "GET", "/api/v1/other", testAPIKey, "", 404, "not_found"},
		{"unknown action", "POST", "/api/v1/sessions/s1/nap", testAPIKey, "", 404, "not_found"},
		{"GET an action", "GET", "/api/v1/sessions/s1/logout", testAPIKey, "", 405, "method_not_allowed"},
		{"POST the session", "POST", "/api/v1/sessions/s1", testAPIKey, "", 405, "method_not_allowed"},
		{"bad JSON", "POST", "/api/v1/sessions/s1/activity", testAPIKey, "{", 400, "bad_request"},
		{"unknown field", "POST", "/api/v1/sessions/s1/activity", testAPIKey, `{"idle":1}`, 400, "bad_request"},
		{"idle_s not a number", "POST", "/api/v1/sessions/s1/activity", testAPIKey, `{"idle_s":"1"}`, 400, "bad_request"},
		{"bad reason", "POST", "/api/v1/sessions/s1/logout", testAPIKey, `{"reason":"bored"}`, 400, "bad_request"},
		{"too large", "POST", "/api/v1/sessions/s1/activity", testAPIKey, `{"idle_s":1,"x":"` + strings.Repeat("a", maxAPIBody) + `"}`, 413, "too_large"},
		{"unknown session", "GET", "/api/v1/sessions/nobody", testAPIKey, "", 404, "not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.api(t, c.method, c.path, c.key, c.body)
			if status != c.status || errorCode(body) != c.code {
				t.Errorf("%d %v, want %d with code %q", status, body, c.status, c.code)
			}
		})
	}
	if _, body := e.api(t, "GET", "/api/v1/sessions/nobody", testAPIKey, ""); body["status"] != "unknown" {
		t.Errorf("unknown session: status %v, want unknown", body["status"])
	}
	if ends := e.endsSoFar(); len(ends) != 0 {
		t.Errorf("refused requests ended sessions: %+v", ends)
	}
}

func TestAPISessionStates(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.mint(session.Claims{SID: "s1", UID: "u1"}), 0)
	get := func() map[string]any {
		t.Helper()
		status, body := e.api(t, "GET", "/api/v1/sessions/s1", testAPIKey, "")
		if status != 200 {
			t.Fatalf("GET: %d %v", status, body)
		}
		return body
	}
	e.advance(2 * time.Second)
	if s := get(); s["status"] != "active" || s["idle_s"] != 2.0 || s["tabs"] != 1.0 || s["sockets"] != 1.0 || s["expire_in_s"] != 8.0 {
		t.Errorf("active: %v", s)
	}
	// A connection that three tabs of a browser share counts three tabs,
	// one socket.
	a.SendFrame(protocol.ClientFrame{Type: protocol.TypeTabs, Tabs: 3})
	a.Expect(protocol.TypeState)
	if s := get(); s["tabs"] != 3.0 || s["sockets"] != 1.0 {
		t.Errorf("shared: %v, want 3 tabs on 1 socket", s)
	}
	e.advance(4 * time.Second)
	a.Expect(protocol.TypeWarn)
	if s := get(); s["status"] != "warning" || s["idle_s"] != 6.0 || s["expire_in_s"] != 4.0 {
		t.Errorf("warning: %v", s)
	}
	e.advance(4 * time.Second)
	a.Expect(protocol.TypeExpire)
	if s := get(); s["status"] != "expired" || s["expire_in_s"] != 0.0 {
		t.Errorf("expired: %v", s)
	}
}

func TestAPIActivityDismissesWarningInEveryTab(t *testing.T) {
	e := newEnv(t)
	a, b := e.dial(t), e.dial(t)
	a.Hello(e.token("s1"), 0)
	b.Hello(e.token("s1"), 0)
	e.advance(6 * time.Second)
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)
	status, body := e.api(t, "POST", "/api/v1/sessions/s1/activity", testAPIKey, `{"idle_s":1}`)
	if status != 200 || body["status"] != "active" || body["idle_s"] != 1.0 || body["tabs"] != 2.0 {
		t.Fatalf("activity: %d %v", status, body)
	}
	for _, tab := range []*testTab{a, b} {
		if st := tab.Expect(protocol.TypeState); st.Status != protocol.StatusActive || st.IdleMS != 1000 {
			t.Errorf("state = %+v, want active, idle 1000", st)
		}
	}
}

func TestAPILogoutReachesEveryTab(t *testing.T) {
	for _, reason := range []string{"", "logout", "revoked"} {
		t.Run("reason "+reason, func(t *testing.T) {
			e := newEnv(t)
			a, b := e.dial(t), e.dial(t)
			a.Hello(e.mint(session.Claims{SID: "s1", UID: "u1"}), 0)
			b.Hello(e.token("s1"), 0)
			body := ""
			if reason != "" {
				body = `{"reason":"` + reason + `"}`
			}
			status, got := e.api(t, "POST", "/api/v1/sessions/s1/logout", testAPIKey, body)
			if status != 200 || got["status"] != "expired" {
				t.Fatalf("logout: %d %v", status, got)
			}
			want := protocol.Reason(reason)
			if reason == "" {
				want = protocol.ReasonLogout
			}
			for _, tab := range []*testTab{a, b} {
				if f := tab.Expect(protocol.TypeExpire); f.Reason != want {
					t.Errorf("expire reason %q, want %q", f.Reason, want)
				}
				tab.ExpectClose(protocol.CloseSessionEnded)
			}
			ends := e.endsSoFar()
			if len(ends) != 1 || ends[0].SID != "s1" || ends[0].UID != "u1" || string(ends[0].Reason) != string(want) {
				t.Errorf("ends = %+v, want one for s1, u1, %s", ends, want)
			}
			// A second logout changes nothing and reports nothing.
			e.api(t, "POST", "/api/v1/sessions/s1/logout", testAPIKey, `{"reason":"revoked"}`)
			if n := len(e.endsSoFar()); n != 1 {
				t.Errorf("%d ends after a second logout, want 1", n)
			}
		})
	}
}

// Revoking a session before any tab connects ends it for good.
func TestAPIRevokeUnknownSession(t *testing.T) {
	e := newEnv(t)
	status, body := e.api(t, "POST", "/api/v1/sessions/later/logout", testAPIKey, `{"reason":"revoked"}`)
	if status != 200 || body["status"] != "expired" {
		t.Fatalf("revoke: %d %v", status, body)
	}
	tab := e.dial(t)
	tab.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("later")})
	if f := tab.Expect(protocol.TypeExpire); f.Reason != protocol.ReasonRevoked {
		t.Errorf("expire reason %q, want revoked", f.Reason)
	}
}

// The server API and the state frame follow one rule for a session's
// status and the time it has left: they agree on either side of the
// warning.
func TestAPIAndStateFrameAgreeAtTheWarnBoundary(t *testing.T) {
	for _, c := range []struct {
		idle time.Duration
		want string
	}{
		{4999 * time.Millisecond, "active"},
		{5 * time.Second, "warning"},
	} {
		t.Run(c.idle.String(), func(t *testing.T) {
			e := newEnv(t)
			a := e.dial(t)
			a.Hello(e.token("s1"), 0)
			e.advance(c.idle)
			b := e.dial(t)
			b.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s1"), Passive: true})
			st := b.Expect(protocol.TypeState)
			status, body := e.api(t, "GET", "/api/v1/sessions/s1", testAPIKey, "")
			if status != 200 || body["status"] != c.want || string(st.Status) != c.want {
				t.Errorf("API %d %v, state frame %q; want both %q", status, body, st.Status, c.want)
			}
			if got, want := body["expire_in_s"], float64(st.ExpireInMS/1000); got != want {
				t.Errorf("API expire_in_s %v, state frame expire_in_ms %d", got, st.ExpireInMS)
			}
		})
	}
}

// Wrong API keys from one address are slowed down: a burst, then 429 with
// Retry-After, even for the right key, until the allowance refills; other
// addresses are not affected.
func TestAPIKeyGuessingIsSlowed(t *testing.T) {
	e := newEnv(t)
	var limited int
	for i := range 3000 {
		status, body := e.api(t, "GET", "/api/v1/sessions/s1", fmt.Sprintf("guess-%d", i), "")
		switch {
		case status == 429 && errorCode(body) == "rate_limited":
			limited++
		case status != 401:
			t.Fatalf("guess %d: %d %v", i, status, body)
		}
		if limited > 0 && i > failureBurst+5 {
			break
		}
	}
	if limited == 0 {
		t.Fatalf("%d wrong keys in a row were all answered 401, none slowed", failureBurst+5)
	}
	if status, _ := e.api(t, "GET", "/api/v1/sessions/s1", testAPIKey, ""); status != 429 {
		t.Errorf("the right key while this address is slowed: %d, want 429", status)
	}
	var l failureLimiter
	now := time.Now()
	for range failureBurst {
		l.failed("a", now)
	}
	if l.wait("a", now) == 0 || l.wait("b", now) != 0 {
		t.Errorf("after %d failures: a waits %v, b %v; want a slowed, b not", failureBurst, l.wait("a", now), l.wait("b", now))
	}
	if w := l.wait("a", now.Add(failureEvery)); w != 0 {
		t.Errorf("a still waits %v after one refill", w)
	}
}
