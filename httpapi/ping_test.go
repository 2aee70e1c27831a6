package httpapi

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
)

// django-session-security's own ping table, with warn after 5 s and
// expire after 10 s: the server's idle time, the client's idleFor, and
// the answer.
func TestPingDjangoSessionSecurityTable(t *testing.T) {
	cases := []struct {
		serverIdle time.Duration
		idleFor    string
		want       string
	}{
		{1 * time.Second, "4", "1"},
		{3 * time.Second, "2", "2"},
		{5 * time.Second, "5", "5"},
		{12 * time.Second, "14", `"logout"`},
	}
	for _, c := range cases {
		t.Run(c.serverIdle.String()+"/"+c.idleFor, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tok := e.token("s1")
			if got := e.ping(t, tok, ""); got != "0" {
				t.Fatalf("first ping = %s, want 0", got)
			}
			e.advance(c.serverIdle)
			if got := e.ping(t, tok, "?idleFor="+c.idleFor); got != c.want {
				t.Fatalf("ping = %s, want %s", got, c.want)
			}
			if c.want == `"logout"` {
				// Expired for good: not even activity now revives it.
				if got := e.ping(t, tok, "?idleFor=0"); got != `"logout"` {
					t.Fatalf("ping after expiry = %s, want \"logout\"", got)
				}
			}
		})
	}
}

func TestPingRules(t *testing.T) {
	t.Run("no token", func(t *testing.T) {
		e := newEnv(t)
		if got := e.ping(t, "", "?idleFor=1"); got != `"logout"` {
			t.Fatalf("ping = %s, want \"logout\"", got)
		}
	})
	t.Run("invalid token", func(t *testing.T) {
		e := newEnv(t)
		if got := e.ping(t, "garbage", "?idleFor=1"); got != `"logout"` {
			t.Fatalf("ping = %s, want \"logout\"", got)
		}
	})
	t.Run("non-integer idleFor changes nothing", func(t *testing.T) {
		e := newEnv(t)
		tok := e.token("s1")
		e.ping(t, tok, "")
		e.advance(3 * time.Second)
		for _, q := range []string{"?idleFor=abc", "?idleFor=1.5", "?idleFor="} {
			if got := e.ping(t, tok, q); got != "3" {
				t.Errorf("ping%s = %s, want 3", q, got)
			}
		}
	})
	t.Run("negative idleFor counts as 0", func(t *testing.T) {
		e := newEnv(t)
		tok := e.token("s1")
		e.ping(t, tok, "")
		e.advance(3 * time.Second)
		if got := e.ping(t, tok, "?idleFor=-7"); got != "0" {
			t.Fatalf("ping = %s, want 0", got)
		}
	})
	t.Run("larger idleFor changes nothing", func(t *testing.T) {
		e := newEnv(t)
		tok := e.token("s1")
		e.ping(t, tok, "")
		e.advance(2 * time.Second)
		if got := e.ping(t, tok, "?idleFor=8"); got != "2" {
			t.Fatalf("ping = %s, want 2", got)
		}
	})
	t.Run("no idleFor is activity now", func(t *testing.T) {
		e := newEnv(t)
		tok := e.token("s1")
		e.ping(t, tok, "?idleFor=4")
		e.advance(2 * time.Second)
		if got := e.ping(t, tok, ""); got != "0" {
			t.Fatalf("ping = %s, want 0", got)
		}
	})
	t.Run("first ping starts the session idleFor ago", func(t *testing.T) {
		e := newEnv(t)
		tok := e.token("s1")
		if got := e.ping(t, tok, "?idleFor=4"); got != "4" {
			t.Fatalf("first ping = %s, want 4", got)
		}
		e.advance(time.Second)
		if got := e.ping(t, tok, "?idleFor=9"); got != "5" {
			t.Fatalf("second ping = %s, want 5", got)
		}
	})
	t.Run("rounds down", func(t *testing.T) {
		e := newEnv(t)
		tok := e.token("s1")
		e.ping(t, tok, "")
		e.advance(2999 * time.Millisecond)
		if got := e.ping(t, tok, "?idleFor=9"); got != "2" {
			t.Fatalf("ping = %s, want 2", got)
		}
	})
}

func TestPingHTTP(t *testing.T) {
	e := newEnv(t)
	tok := e.token("s1")
	do := func(method, auth string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, e.srv.URL+"/ping?idleFor=0", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := do(http.MethodGet, "Bearer "+tok)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "0" {
		t.Errorf("GET with Bearer: %d %q, want 200 \"0\"", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	resp = do(http.MethodHead, "Bearer "+tok)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("HEAD: %d with %d body bytes, want 200 and none", resp.StatusCode, len(body))
	}
	resp = do(http.MethodPost, "Bearer "+tok)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("POST: %d Allow %q, want 405 \"GET, HEAD, OPTIONS\"", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// Activity reported through the classic ping moves the deadline of the
// WebSocket tabs of the same session and lifts their warning.
func TestPingActivityReachesTabs(t *testing.T) {
	e := newEnv(t)
	tab := e.dial(t)
	tok := e.token("s1")
	tab.Hello(tok, 0)
	e.advance(6 * time.Second)
	tab.Expect(protocol.TypeWarn)
	if got := e.ping(t, tok, "?idleFor=0"); got != "0" {
		t.Fatalf("ping = %s, want 0", got)
	}
	if st := tab.Expect(protocol.TypeState); st.Status != protocol.StatusActive {
		t.Fatalf("state = %+v, want active", st)
	}
}
