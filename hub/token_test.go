package hub

import (
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// withMaxAge gives the node a verifier on its clock with a token max age
// of maxAge.
func withMaxAge(t *testing.T, maxAge time.Duration) func(*Options) {
	return func(o *Options) {
		v, err := session.NewVerifier(session.VerifierOptions{Secret: testSecret, MaxAge: maxAge, Defaults: testLimits, Clock: o.Clock})
		if err != nil {
			t.Fatal(err)
		}
		o.Verifier = v
	}
}

// A tab kept active longer than the token max age gets a fresh token
// before its own is half the max age old, and the newest token opens the
// session on a presence that restarted and forgot it.
func TestTokenFramesKeepAPageAccepted(t *testing.T) {
	e := newEnv(t, withMaxAge(t, 6*time.Second))
	first := e.mint(session.Claims{SID: "s1", UID: "u1", LogoutURL: "/bye"})
	tab := e.dial(t)
	tab.Hello(first, 0)
	var tokens []string
	for range 10 { // 20 s, active every 2 s
		e.advance(2 * time.Second)
		eventually(t, "the wheel caught up", func() bool { return e.reg.wheel.caughtUp(e.clock.Now()) })
		tab.Activity(0)
		for _, f := range tab.Collect() {
			if f.Type == protocol.TypeToken {
				tokens = append(tokens, f.Token)
			}
		}
	}
	if len(tokens) < 5 {
		t.Fatalf("%d token frames in 20 s with a 6 s max age, want one every 3 s or so", len(tokens))
	}
	newest := tokens[len(tokens)-1]
	claims, err := e.verifier.Verify(newest)
	if err != nil {
		t.Fatalf("the newest token: %v", err)
	}
	if claims.SID != "s1" || claims.UID != "u1" || claims.LogoutURL != "/bye" || e.clock.Now().Sub(claims.IssuedAt) > 3*time.Second {
		t.Errorf("the newest token's claims = %+v, want the session's, under 3 s old", claims)
	}

	// presence restarts with an empty memory store: the first token is
	// refused for its age, the newest opens the session again.
	again := newEnv(t, withMaxAge(t, 6*time.Second))
	again.clock.Advance(e.clock.Now().Sub(again.clock.Now()))
	refused := again.dial(t)
	refused.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: first})
	if f := refused.Expect(protocol.TypeError); f.Code != protocol.CodeTokenTooOld {
		t.Errorf("the 20 s old token on a presence that forgot the session: %+v, want token_too_old", f)
	}
	refused.ExpectClose(protocol.CloseTokenRefused)
	if st := again.dial(t).Hello(newest, 0); st.Status != protocol.StatusActive {
		t.Errorf("the newest token: %+v", st)
	}
}

// The token max age guards only the sessions presence does not know: a
// token older than it opens a session presence holds as live, and is
// refused with 4401 for one it does not know.
func TestOldTokenOfALiveSession(t *testing.T) {
	e := newEnv(t, withMaxAge(t, time.Hour))
	lim := session.Claims{WarnAfter: 3 * 3600, ExpireAfter: 4 * 3600}
	lim.SID = "live"
	live := e.mint(lim)
	lim.SID = "unknown"
	unknown := e.mint(lim)
	e.dial(t).Hello(live, 0)
	e.advance(2 * time.Hour)
	if st := e.dial(t).Hello(live, 0); st.Status != protocol.StatusActive {
		t.Errorf("a 2 h old token of a live session: %+v, want state", st)
	}
	tab := e.dial(t)
	tab.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: unknown})
	if f := tab.Expect(protocol.TypeError); f.Code != protocol.CodeTokenTooOld {
		t.Errorf("a 2 h old token of an unknown session: %+v, want token_too_old", f)
	}
	tab.ExpectClose(protocol.CloseTokenRefused)
}

// No fresh token once the session has ended.
func TestNoTokenFrameAfterTheEnd(t *testing.T) {
	e := newEnv(t, withMaxAge(t, 30*time.Second))
	tab := e.dial(t)
	tab.Hello(e.token("s1"), 0)
	e.advance(10 * time.Second) // past expire_after, before half the max age
	tab.Expect(protocol.TypeExpire)
	e.advance(10 * time.Second)
	for {
		f, ok := tab.Next()
		if !ok {
			break
		}
		if f.Type == protocol.TypeToken {
			t.Fatalf("a token frame after the end: %+v", f)
		}
	}
	tab.ExpectClose(protocol.CloseSessionEnded)
}

// A tab's limits are read while the wheel's goroutine hands the tab a
// fresh token: reading them touches nothing of the claims that a refresh
// writes (the race detector watches).
func TestTabLimitsBesideARefresh(t *testing.T) {
	tb := &tab{claims: session.Claims{SID: "s", WarnAfter: 5, ExpireAfter: 10}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tb.claims.IssuedAt = time.Now() // as refreshToken does
	}()
	if got := tb.limits(); got != testLimits {
		t.Errorf("limits = %+v, want %+v", got, testLimits)
	}
	<-done
}
