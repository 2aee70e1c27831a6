package hub

import (
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// A session's absolute end (the token's end_at) is announced in the state,
// warned of expire_after - warn_after before it with a warn of kind
// lifetime that activity does not lift, and ends the session then, with
// reason lifetime, however active its person. A token minted later with
// another end_at moves nothing.
func TestLifetimeEndsAnActiveSession(t *testing.T) {
	e := newEnv(t)
	endAt := e.clock.Now().Add(30 * time.Second)
	a := e.dial(t)
	st := a.Hello(e.mint(session.Claims{SID: "life", EndAt: endAt.Unix()}), 0)
	if !st.HasEnd || st.EndInMS != 30000 || st.Status != protocol.StatusActive {
		t.Fatalf("state = %+v, want active with end_in_ms 30000", st)
	}
	b := e.dial(t)
	if st := b.Hello(e.mint(session.Claims{SID: "life", EndAt: endAt.Add(time.Hour).Unix()}), 0); st.EndInMS != 30000 {
		t.Fatalf("a later token's end_at moved the end: state = %+v", st)
	}
	for range 12 { // active every 2 s, up to the warning
		e.advance(2 * time.Second)
		a.Activity(0)
		a.Sync()
	}
	e.advance(time.Second) // 25 s: 5 s before the end
	for _, tb := range []*testTab{a, b} {
		w := expectPastStates(t, tb, protocol.TypeWarn) // b, idle, hears that the session goes on
		if w.Kind != protocol.WarnLifetime || w.ExpireInMS != 5000 {
			t.Errorf("warn = %+v, want kind lifetime, expire_in_ms 5000", w)
		}
	}
	a.Activity(0) // does not lift it
	a.Sync()
	a.ExpectNothing()
	b.ExpectNothing()
	e.advance(5 * time.Second)
	for _, tb := range []*testTab{a, b} {
		if f := tb.Expect(protocol.TypeExpire); f.Reason != protocol.ReasonLifetime {
			t.Errorf("expire = %+v, want reason lifetime", f)
		}
		tb.ExpectClose(protocol.CloseSessionEnded)
	}
	eventually(t, "the end reported", func() bool { return len(e.endsSoFar()) == 1 })
	if end := e.endsSoFar()[0]; end.Reason != session.ReasonLifetime || !end.At.Equal(endAt) {
		t.Errorf("end = %+v, want lifetime at %v", end, endAt)
	}
}

// An idle session whose idle end comes before its absolute end is warned
// and ended for idleness, as any other.
func TestIdleEndBeforeTheLifetime(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.mint(session.Claims{SID: "idle-first", EndAt: e.clock.Now().Add(time.Hour).Unix()}), 0)
	e.advance(testLimits.WarnAfter)
	if w := a.Expect(protocol.TypeWarn); w.Kind != protocol.WarnIdle {
		t.Errorf("warn = %+v, want kind idle", w)
	}
	a.Activity(0)
	if st := a.Expect(protocol.TypeState); st.Status != protocol.StatusActive {
		t.Errorf("state after activity = %+v, want active", st)
	}
	e.advance(testLimits.WarnAfter)
	a.Expect(protocol.TypeWarn)
	e.advance(testLimits.ExpireAfter - testLimits.WarnAfter)
	if f := a.Expect(protocol.TypeExpire); f.Reason != protocol.ReasonIdle {
		t.Errorf("expire = %+v, want reason idle", f)
	}
}

// Options.MaxLifetime gives a session without end_at an absolute end
// counted from its first sight, and shortens a later end_at; a token's
// earlier end_at stands.
func TestMaxLifetime(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxLifetime = 20 * time.Second })
	now := e.clock.Now()
	for _, c := range []struct {
		sid   string
		endAt time.Time
		want  int64
	}{
		{"no-end", time.Time{}, 20000},
		{"later-end", now.Add(time.Hour), 20000},
		{"earlier-end", now.Add(10 * time.Second), 10000},
	} {
		claims := session.Claims{SID: c.sid}
		if !c.endAt.IsZero() {
			claims.EndAt = c.endAt.Unix()
		}
		if st := e.dial(t).Hello(e.mint(claims), 0); !st.HasEnd || st.EndInMS != c.want {
			t.Errorf("%s: state = %+v, want end_in_ms %d", c.sid, st, c.want)
		}
	}
	e.advance(5 * time.Second)
	a := e.dial(t) // seen again later: the first sight counts
	if st := a.Hello(e.mint(session.Claims{SID: "no-end"}), 0); st.EndInMS != 15000 {
		t.Errorf("state seen 5 s later = %+v, want end_in_ms 15000", st)
	}
	if s := e.lookup(t, "no-end"); !s.EndsAt.Equal(now.Add(20 * time.Second)) {
		t.Errorf("Lookup: EndsAt = %v, want %v", s.EndsAt, now.Add(20*time.Second))
	}
}

// The absolute end lives in the store: a node whose tab's token has no
// end_at learns it there, and ends the session then, its person active,
// after the node that first saw it died.
func TestLifetimeHoldsAcrossNodes(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	end := time.Unix(c.clock.Now().Add(8*time.Second).Unix(), 0)
	tok, err := session.Mint(testSecret, session.Claims{SID: "life-shared", WarnAfter: 2, ExpireAfter: 4, EndAt: end.Unix()})
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.dial(0), c.dial(1)
	a.Hello(tok, 0)
	if st := b.Hello(multiToken(t, "life-shared"), 0); !st.HasEnd || st.EndInMS <= 0 {
		t.Fatalf("state on the other node = %+v, want the absolute end", st)
	}
	c.nodes[0].kill()
	// The person stays active in tab b, every half second, until at.
	activeUntil := func(at time.Time) {
		for c.clock.Now().Before(at) {
			b.Activity(0)
			b.Sync()
			c.advance(500 * time.Millisecond)
		}
		c.settle()
	}
	activeUntil(end.Add(-2 * time.Second))
	if w := expectPastStates(t, b, protocol.TypeWarn); w.Kind != protocol.WarnLifetime {
		t.Errorf("warn = %+v, want kind lifetime", w)
	}
	activeUntil(end)
	if f := expectPastStates(t, b, protocol.TypeExpire); f.Reason != protocol.ReasonLifetime {
		t.Errorf("expire = %+v, want reason lifetime", f)
	}
}
