package hub

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// The tests in this file hold DESIGN.md's invariants end to end: a real
// server on 127.0.0.1, real WebSocket clients, virtual time.

func TestHelloGetsState(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	st := a.Hello(e.token("s1"), 1500)
	want := protocol.ServerFrame{Type: protocol.TypeState, Status: protocol.StatusActive,
		IdleMS: 1500, WarnAfterMS: 5000, ExpireAfterMS: 10000, ExpireInMS: 8500}
	if st != want {
		t.Fatalf("state = %+v, want %+v", st, want)
	}
}

func TestWarnReachesEveryTab(t *testing.T) {
	e := newEnv(t)
	a, b := e.dial(t), e.dial(t)
	a.Hello(e.token("s1"), 0)
	b.Hello(e.token("s1"), 0)

	e.advance(4900 * time.Millisecond)
	a.ExpectNothing()
	b.ExpectNothing()

	e.advance(100 * time.Millisecond)
	for _, tab := range []*testTab{a, b} {
		w := tab.Expect(protocol.TypeWarn)
		if w.ExpireInMS < 4900 || w.ExpireInMS > 5000 {
			t.Errorf("warn expire_in_ms = %d, want about 5000", w.ExpireInMS)
		}
	}
}

func TestActivityInOneTabDismissesWarningInAll(t *testing.T) {
	e := newEnv(t)
	a, b := e.dial(t), e.dial(t)
	a.Hello(e.token("s1"), 0)
	b.Hello(e.token("s1"), 0)
	e.advance(6 * time.Second)
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)

	b.Activity(0)
	for _, tab := range []*testTab{a, b} {
		st := tab.Expect(protocol.TypeState)
		if st.Status != protocol.StatusActive || st.ExpireInMS != 10000 {
			t.Errorf("state after activity = %+v, want active with expire_in_ms 10000", st)
		}
	}
	// The deadline moved: no warning until 5 s after the activity.
	e.advance(4900 * time.Millisecond)
	a.ExpectNothing()
	e.advance(100 * time.Millisecond)
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)
}

func TestExpireReachesEveryTabThenClose4410(t *testing.T) {
	e := newEnv(t)
	a, b := e.dial(t), e.dial(t)
	a.Hello(e.mint(session.Claims{SID: "s1", LogoutURL: "/accounts/logout/"}), 0)
	b.Hello(e.token("s1"), 0)
	e.advance(5 * time.Second)
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)
	e.advance(5 * time.Second)

	ea := a.Expect(protocol.TypeExpire)
	if ea.Reason != protocol.ReasonIdle || ea.RedirectURL != "/accounts/logout/" {
		t.Errorf("expire to tab a = %+v, want reason idle and its token's logout_url", ea)
	}
	eb := b.Expect(protocol.TypeExpire)
	if eb.Reason != protocol.ReasonIdle || eb.RedirectURL != "" {
		t.Errorf("expire to tab b = %+v, want reason idle and no redirect", eb)
	}
	a.ExpectClose(protocol.CloseSessionEnded)
	b.ExpectClose(protocol.CloseSessionEnded)
	eventually(t, "hub released", func() bool { return e.reg.Sessions() == 0 && e.reg.Tabs() == 0 })
}

func TestStaleIdleNeverMovesLastActivityBackwards(t *testing.T) {
	e := newEnv(t)
	a, b := e.dial(t), e.dial(t)
	a.Hello(e.token("s1"), 0)
	b.Hello(e.token("s1"), 0)
	e.advance(4 * time.Second)
	a.Activity(0) // fresh: last activity now, t=4s
	a.Sync()
	b.Activity(3000) // stale: this tab saw the person at t=1s
	b.Sync()

	e.advance(4900 * time.Millisecond) // t=8.9s: a stale report would have warned at t=6s
	a.ExpectNothing()
	b.ExpectNothing()
	e.advance(100 * time.Millisecond) // t=9s = 4s + warn_after
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)
}

// Fresh and stale reports of one session arriving at the same instant
// never lose the fresh one (django-session-security loses it about a third
// of the time).
func TestConcurrentFreshAndStaleReports(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SendQueue = 256 })
	const tabs = 6
	var all []*testTab
	for range tabs {
		tt := e.dial(t)
		tt.Hello(e.token("s1"), 0)
		all = append(all, tt)
	}
	for round := range 20 {
		e.advance(4 * time.Second)
		var wg sync.WaitGroup
		for i, tt := range all {
			wg.Add(1)
			go func() {
				defer wg.Done()
				idle := int64(3500) // stale
				if i == round%tabs {
					idle = 0 // fresh
				}
				tt.Activity(idle)
			}()
		}
		wg.Wait()
		for _, tt := range all {
			// A tab whose own reports are stale hears that the session
			// goes on (a state); nothing else.
			for _, f := range tt.Collect() {
				if f.Type != protocol.TypeState || f.Status != protocol.StatusActive {
					t.Fatalf("round %d: got %+v, want nothing but an active state", round, f)
				}
			}
		}
		snap, err := e.store.Check(t.Context(), "s1", session.Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if snap.Idle() != 0 {
			t.Fatalf("round %d: idle = %s after a fresh report, want 0", round, snap.Idle())
		}
	}
}

func TestExtendCountsAsActivity(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.token("s1"), 0)
	e.advance(7 * time.Second)
	a.Expect(protocol.TypeWarn)
	a.Send(`{"type":"extend"}`)
	if st := a.Expect(protocol.TypeState); st.Status != protocol.StatusActive {
		t.Fatalf("state after extend = %+v, want active", st)
	}
}

// A tab joining a warned session with fresh activity lifts the warning in
// the tabs already there.
func TestJoiningTabWithActivityDismissesWarning(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.token("s1"), 0)
	e.advance(6 * time.Second)
	a.Expect(protocol.TypeWarn)
	b := e.dial(t)
	if st := b.Hello(e.token("s1"), 0); st.Status != protocol.StatusActive {
		t.Errorf("new tab state = %+v, want active", st)
	}
	if st := a.Expect(protocol.TypeState); st.Status != protocol.StatusActive {
		t.Errorf("old tab state = %+v, want active", st)
	}
}

// A tab that joins while the session is warned, without fresh activity,
// learns of the warning in its state.
func TestIdleTabJoiningWarnedSessionSeesWarning(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.token("s1"), 0)
	e.advance(6 * time.Second)
	a.Expect(protocol.TypeWarn)
	b := e.dial(t)
	st := b.Hello(e.token("s1"), 60_000)
	if st.Status != protocol.StatusWarning || st.ExpireInMS != 4000 {
		t.Errorf("state = %+v, want warning with expire_in_ms 4000", st)
	}
	a.ExpectNothing()
}

// Sessions are independent: tabs of many sessions warn on their own
// deadlines.
func TestManySessionsWarnIndependently(t *testing.T) {
	e := newEnv(t)
	var tabs []*testTab
	for i := range 10 {
		tt := e.dial(t)
		tt.Hello(e.token(fmt.Sprintf("s%d", i)), int64(i)*100)
		tabs = append(tabs, tt)
	}
	e.advance(4950 * time.Millisecond)
	for i, tt := range tabs {
		if i < 1 {
			tt.ExpectNothing()
			continue
		}
		tt.Expect(protocol.TypeWarn) // idle i*100ms at t0: past 5s by 4.95s for i >= 1
	}
}

// A passive page (a dashboard that reloads itself) joins without counting
// its load as activity; a session not seen before starts idle_ms ago.
func TestPassiveHelloIsNotActivity(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.token("s1"), 0)
	e.advance(4 * time.Second)
	b := e.dial(t)
	b.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s1"), Passive: true})
	if st := b.Expect(protocol.TypeState); st.IdleMS != 4000 || st.ExpireInMS != 6000 {
		t.Fatalf("passive tab state = %+v, want idle 4000 and expire_in 6000", st)
	}
	e.advance(time.Second)
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)

	c := e.dial(t)
	c.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("new"), IdleMS: 2000, Passive: true})
	if st := c.Expect(protocol.TypeState); st.IdleMS != 2000 {
		t.Fatalf("passive tab of a new session: state = %+v, want idle 2000", st)
	}
}

// A tab whose person stopped, while the session goes on through another
// tab (in another browser, say, which shares nothing with it), hears so
// each time the end it was told of reaches its warning point: the page
// keeps a clock of its own, and would cover itself when that end passed.
// The busy tab, whose own activity tells it as much, hears nothing.
func TestAnIdleTabHearsThatTheSessionGoesOn(t *testing.T) {
	e := newEnv(t)
	busy, idle := e.dial(t), e.dial(t)
	busy.Hello(e.token("two"), 0)
	idle.Hello(e.token("two"), 0)
	for second := 1; second <= 11; second++ {
		e.advance(time.Second)
		busy.Activity(0)
		busy.Sync()
		if second == 5 || second == 10 { // the warning points of the ends idle was told of: 10 s, then 15 s
			if st := idle.Expect(protocol.TypeState); st.Status != protocol.StatusActive || st.ExpireInMS != testLimits.ExpireAfter.Milliseconds() {
				t.Fatalf("at %d s the idle tab got %+v, want active, expire_after left", second, st)
			}
		}
		idle.ExpectNothing()
	}
	busy.ExpectNothing()
}
