package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// storeHarness is a Store under test, its clock, and a way to move it.
type storeHarness struct {
	Store
	now     func() time.Time
	advance func(time.Duration)
}

// confirmed confirms sid's end, as the node told of it does, on a store
// that asks for it (EndConfirmer).
func confirmed(t *testing.T, s Store, sid string) {
	t.Helper()
	if c, ok := s.(EndConfirmer); ok {
		if err := c.ConfirmEnd(t.Context(), sid); err != nil {
			t.Fatal(err)
		}
	}
}

// testStore runs the rules every Store must follow, each subtest on a
// fresh store from newStore, which closes it when the test ends. The Redis
// store runs them too.
func testStore(t *testing.T, newStore func(t *testing.T) storeHarness) {
	t.Run("ClassicPing", func(t *testing.T) { t.Parallel(); testClassicPing(t, newStore(t)) })
	t.Run("ExpiryFirst", func(t *testing.T) { t.Parallel(); testExpiryFirst(t, newStore(t)) })
	t.Run("CreatedEnded", func(t *testing.T) { t.Parallel(); testCreatedEnded(t, newStore(t)) })
	t.Run("NeverRevived", func(t *testing.T) { t.Parallel(); testNeverRevived(t, newStore) })
	t.Run("CheckCreatesNothing", func(t *testing.T) { t.Parallel(); testCheckCreatesNothing(t, newStore(t)) })
	t.Run("EndUnknown", func(t *testing.T) { t.Parallel(); testEndUnknown(t, newStore(t)) })
	t.Run("EndPastDeadline", func(t *testing.T) { t.Parallel(); testEndPastDeadline(t, newStore(t)) })
	t.Run("LimitsPerCall", func(t *testing.T) { t.Parallel(); testLimitsPerCall(t, newStore(t)) })
	t.Run("ZeroLimits", func(t *testing.T) { t.Parallel(); testZeroLimits(t, newStore(t)) })
	t.Run("User", func(t *testing.T) { t.Parallel(); testUser(t, newStore(t)) })
	t.Run("HoldIdleEnds", func(t *testing.T) { t.Parallel(); testHoldIdleEnds(t, newStore(t)) })
	t.Run("EndedNowOnce", func(t *testing.T) { t.Parallel(); testEndedNowOnce(t, newStore) })
	t.Run("FreshNeverLost", func(t *testing.T) { t.Parallel(); testFreshNeverLost(t, newStore(t)) })
	t.Run("BadCalls", func(t *testing.T) { t.Parallel(); testBadCalls(t, newStore(t)) })
	t.Run("Closed", func(t *testing.T) { t.Parallel(); testClosed(t, newStore(t)) })
	t.Run("Batch", func(t *testing.T) { t.Parallel(); testBatch(t, newStore(t)) })
	t.Run("Lifetime", func(t *testing.T) { t.Parallel(); testLifetime(t, newStore(t)) })
}

var longLim = Limits{WarnAfter: time.Hour, ExpireAfter: 2 * time.Hour}

// must returns a function that returns a Snapshot, failing t on an error:
// must(t)(h.Touch(...)).
func must(t *testing.T) func(Snapshot, error) Snapshot {
	return func(s Snapshot, err error) Snapshot {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// wantActive fails unless s is an active session last active at last.
func wantActive(t *testing.T, h storeHarness, s Snapshot, last time.Time) {
	t.Helper()
	if !s.Now.Equal(h.now()) {
		t.Errorf("Now = %v, want the store's clock %v", s.Now, h.now())
	}
	if !s.Known || s.Ended || s.EndedNow || !s.Last.Equal(last) {
		t.Errorf("got %+v, want active with Last %v", s, last)
	}
}

// wantEnded fails unless s is a session ended at endedAt for reason.
func wantEnded(t *testing.T, s Snapshot, endedAt time.Time, reason Reason, endedNow bool) {
	t.Helper()
	if !s.Ended || !s.EndedAt.Equal(endedAt) || s.Reason != reason || s.EndedNow != endedNow {
		t.Errorf("got %+v, want ended at %v for %q, EndedNow %v", s, endedAt, reason, endedNow)
	}
}

// testClassicPing follows DESIGN.md's classic ping through Touch.
func testClassicPing(t *testing.T, h storeHarness) {
	ctx := t.Context()
	start := h.now()
	steps := []struct {
		name     string
		advance  time.Duration
		idle     time.Duration
		wantLast time.Duration // after start
	}{
		{"first ping starts it idleFor ago", 0, 30 * time.Second, -30 * time.Second},
		{"smaller idleFor moves last activity later", time.Minute, 10 * time.Second, 50 * time.Second},
		{"larger idleFor changes nothing", 0, 100 * time.Second, 50 * time.Second},
		{"larger idleFor later changes nothing", 20 * time.Second, 500 * time.Second, 50 * time.Second},
		{"negative idleFor counts as 0", 0, -5 * time.Second, 80 * time.Second},
		{"no idleFor is activity now", 599 * time.Second, 0, 679 * time.Second},
	}
	for _, st := range steps {
		h.advance(st.advance)
		s := must(t)(h.Touch(ctx, "ping", st.idle, Terms{Limits: lim}))
		wantActive(t, h, s, start.Add(st.wantLast))
		if want := h.now().Sub(start.Add(st.wantLast)); s.Idle() != want {
			t.Errorf("%s: Idle = %v, want %v", st.name, s.Idle(), want)
		}
	}
}

// testExpiryFirst checks that a ping at or after the deadline finds the
// session ended, however fresh its activity.
func testExpiryFirst(t *testing.T, h storeHarness) {
	ctx := t.Context()
	start := h.now()
	must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim}))
	h.advance(599 * time.Second)
	wantActive(t, h, must(t)(h.Check(ctx, "s", lim)), start)
	h.advance(time.Second)
	s := must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim}))
	wantEnded(t, s, start.Add(600*time.Second), ReasonIdle, true)
	if !s.Known || !s.Last.Equal(start) {
		t.Errorf("Last = %v, %v; want the last activity before the end, %v", s.Last, s.Known, start)
	}
}

func testCreatedEnded(t *testing.T, h storeHarness) {
	ctx := t.Context()
	s := must(t)(h.Touch(ctx, "s", 600*time.Second, Terms{Limits: lim}))
	wantEnded(t, s, h.now(), ReasonIdle, true)
	if !s.Last.Equal(h.now().Add(-600 * time.Second)) {
		t.Errorf("Last = %v, want 600 s ago", s.Last)
	}
	wantEnded(t, must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim})), h.now(), ReasonIdle, false)
}

// testNeverRevived ends a session in each way, then tries every call on it.
func testNeverRevived(t *testing.T, newStore func(t *testing.T) storeHarness) {
	ends := []struct {
		name   string
		end    func(ctx context.Context, h storeHarness) (Snapshot, error)
		reason Reason
	}{
		{"idle", func(ctx context.Context, h storeHarness) (Snapshot, error) {
			h.Touch(ctx, "s", 0, Terms{Limits: lim})
			h.advance(10 * time.Minute)
			return h.Check(ctx, "s", lim)
		}, ReasonIdle},
		{"logout", func(ctx context.Context, h storeHarness) (Snapshot, error) {
			h.Touch(ctx, "s", 0, Terms{Limits: lim})
			return h.End(ctx, "s", ReasonLogout, lim)
		}, ReasonLogout},
		{"revoked before any touch", func(ctx context.Context, h storeHarness) (Snapshot, error) {
			return h.End(ctx, "s", ReasonRevoked, lim)
		}, ReasonRevoked},
	}
	calls := []struct {
		name string
		call func(ctx context.Context, h storeHarness) (Snapshot, error)
	}{
		{"touch", func(ctx context.Context, h storeHarness) (Snapshot, error) {
			return h.Touch(ctx, "s", 0, Terms{Limits: lim})
		}},
		{"touch with negative idle", func(ctx context.Context, h storeHarness) (Snapshot, error) {
			return h.Touch(ctx, "s", -time.Hour, Terms{Limits: lim})
		}},
		{"touch with longer limits", func(ctx context.Context, h storeHarness) (Snapshot, error) {
			return h.Touch(ctx, "s", 0, Terms{Limits: longLim})
		}},
		{"check with longer limits", func(ctx context.Context, h storeHarness) (Snapshot, error) { return h.Check(ctx, "s", longLim) }},
		{"end", func(ctx context.Context, h storeHarness) (Snapshot, error) { return h.End(ctx, "s", ReasonLogout, lim) }},
		{"end revoked", func(ctx context.Context, h storeHarness) (Snapshot, error) {
			return h.End(ctx, "s", ReasonRevoked, lim)
		}},
	}
	for _, e := range ends {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			h := newStore(t)
			ctx := t.Context()
			first := must(t)(e.end(ctx, h))
			wantEnded(t, first, first.EndedAt, e.reason, true)
			confirmed(t, h.Store, "s")
			for _, c := range calls {
				h.advance(time.Minute)
				wantEnded(t, must(t)(c.call(ctx, h)), first.EndedAt, e.reason, false)
			}
		})
	}
}

func testCheckCreatesNothing(t *testing.T, h storeHarness) {
	ctx := t.Context()
	for range 2 {
		if s := must(t)(h.Check(ctx, "s", lim)); s.Known || s.Ended || s.EndedNow || !s.Now.Equal(h.now()) {
			t.Fatalf("Check of an unknown session = %+v", s)
		}
	}
	wantActive(t, h, must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim})), h.now())
}

func testEndUnknown(t *testing.T, h storeHarness) {
	ctx := t.Context()
	s := must(t)(h.End(ctx, "s", ReasonLogout, lim))
	wantEnded(t, s, h.now(), ReasonLogout, true)
	if s.Known || !s.Last.IsZero() || s.Idle() != 0 {
		t.Errorf("End of an unknown session = %+v, want not Known", s)
	}
}

func testEndPastDeadline(t *testing.T, h storeHarness) {
	ctx := t.Context()
	start := h.now()
	must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim}))
	h.advance(time.Hour)
	wantEnded(t, must(t)(h.End(ctx, "s", ReasonLogout, lim)), start.Add(600*time.Second), ReasonIdle, true)
}

// testLimitsPerCall checks that each call's limits decide its deadline.
func testLimitsPerCall(t *testing.T, h storeHarness) {
	ctx := t.Context()
	start := h.now()
	must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim}))
	h.advance(700 * time.Second)
	wantActive(t, h, must(t)(h.Check(ctx, "s", longLim)), start)
	wantActive(t, h, must(t)(h.Touch(ctx, "s", 0, Terms{Limits: longLim})), h.now())
	wantActive(t, h, must(t)(h.Check(ctx, "s", lim)), h.now())
}

// testZeroLimits: a caller that does not know a session's limits passes
// zero Limits and gets the session's own, kept from the latest call that
// gave some; it can never end the session early.
func testZeroLimits(t *testing.T, h storeHarness) {
	ctx := t.Context()
	start := h.now()
	s := must(t)(h.Touch(ctx, "s", 0, Terms{Limits: longLim}))
	if s.Limits != longLim {
		t.Errorf("Touch: Limits = %+v, want %+v", s.Limits, longLim)
	}
	h.advance(time.Hour) // past lim's 600 s, within longLim's 2 h
	s = must(t)(h.Check(ctx, "s", Limits{}))
	wantActive(t, h, s, start)
	if s.Limits != longLim {
		t.Errorf("Check without limits: Limits = %+v, want the session's %+v", s.Limits, longLim)
	}
	if _, err := h.Touch(ctx, "s", 0, Terms{Limits: Limits{}}); err == nil {
		t.Error("Touch without limits succeeded; it needs them to start a session")
	}
	if s := must(t)(h.Check(ctx, "unknown", Limits{})); s.Known || s.Ended || s.Limits != (Limits{}) {
		t.Errorf("Check of an unknown session without limits = %+v", s)
	}
	h.advance(time.Hour) // now past longLim's 2 h
	s = must(t)(h.Check(ctx, "s", Limits{}))
	if !s.Ended || !s.EndedNow || s.Reason != ReasonIdle || !s.EndedAt.Equal(start.Add(2*time.Hour)) {
		t.Errorf("Check without limits past the session's deadline = %+v, want ended idle at %v", s, start.Add(2*time.Hour))
	}
	s = must(t)(h.End(ctx, "later", ReasonRevoked, Limits{}))
	if !s.Ended || !s.EndedNow || s.Reason != ReasonRevoked {
		t.Errorf("End of an unknown session without limits = %+v", s)
	}
}

// testEndedNowOnce races 50 calls on one session: exactly one is told it
// ended it.
// The store keeps a session's user from the latest Touch that gave one,
// and tells it with every answer, so that any node can name it in the
// end's webhook.
func testUser(t *testing.T, h storeHarness) {
	ctx := t.Context()
	if s := must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim, UID: "u1"})); s.UID != "u1" {
		t.Errorf("Touch with a user: UID %q, want u1", s.UID)
	}
	if s := must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim})); s.UID != "u1" {
		t.Errorf("Touch without a user: UID %q, want u1 kept", s.UID)
	}
	if s := must(t)(h.Check(ctx, "s", Limits{})); s.UID != "u1" {
		t.Errorf("Check: UID %q, want u1", s.UID)
	}
	if s := must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim, UID: "u2"})); s.UID != "u2" {
		t.Errorf("Touch with another user: UID %q, want u2", s.UID)
	}
	if s := must(t)(h.End(ctx, "s", ReasonLogout, Limits{})); s.UID != "u2" || !s.EndedNow {
		t.Errorf("End: %+v, want ended now with u2", s)
	}
	var ce *ClaimsError
	if _, err := h.Touch(ctx, "t", 0, Terms{Limits: lim, UID: strings.Repeat("u", 257)}); !errors.As(err, &ce) || ce.Field != "uid" {
		t.Errorf("Touch with a 257-byte user: %v, want a uid ClaimsError", err)
	}
}

// While idle ends are held, a session past its deadline answers active
// and a fresh report keeps it alive; once the hold ends, one that nobody
// reported ends at its own deadline. Other ends stand.
func testHoldIdleEnds(t *testing.T, h storeHarness) {
	ctx := t.Context()
	t0 := h.now()
	must(t)(h.Touch(ctx, "saved", 0, Terms{Limits: lim}))
	must(t)(h.Touch(ctx, "idle", 0, Terms{Limits: lim}))
	must(t)(h.Touch(ctx, "logout", 0, Terms{Limits: lim}))
	h.advance(lim.ExpireAfter + time.Minute) // an outage of presence
	h.HoldIdleEnds(h.now().Add(time.Minute))
	for _, sid := range []string{"saved", "idle"} {
		s := must(t)(h.Check(ctx, sid, lim))
		if s.Ended || !s.Known || s.Idle() != lim.ExpireAfter+time.Minute {
			t.Fatalf("%s during the hold: %+v, want active, idle since before the outage", sid, s)
		}
	}
	wantActive(t, h, must(t)(h.Touch(ctx, "saved", 2*time.Second, Terms{Limits: lim})), h.now().Add(-2*time.Second))
	wantEnded(t, must(t)(h.End(ctx, "logout", ReasonLogout, lim)), h.now(), ReasonLogout, true)
	// A session the store does not know, first reported idle past its
	// deadline (a browser left idle, after the store forgot the session),
	// waits for the hold too: a fresher report from another browser
	// keeps it.
	if s := must(t)(h.Touch(ctx, "forgotten", lim.ExpireAfter+time.Minute, Terms{Limits: lim})); s.Ended || !s.Known {
		t.Errorf("a session created idle during the hold: %+v, want it active until the hold ends", s)
	}
	wantActive(t, h, must(t)(h.Touch(ctx, "forgotten", time.Second, Terms{Limits: lim})), h.now().Add(-time.Second))
	must(t)(h.Touch(ctx, "forgotten-idle", lim.ExpireAfter+time.Minute, Terms{Limits: lim}))
	h.advance(time.Minute)
	wantEnded(t, must(t)(h.Check(ctx, "idle", lim)), t0.Add(lim.ExpireAfter), ReasonIdle, true)
	if s := must(t)(h.Check(ctx, "forgotten-idle", lim)); !s.Ended {
		t.Errorf("a session created idle during the hold, reported by nobody since: %+v, want ended once the hold is over", s)
	}
	if s := must(t)(h.Check(ctx, "saved", lim)); s.Ended {
		t.Errorf("the session reported during the hold ended: %+v", s)
	}
	h.HoldIdleEnds(h.now().Add(time.Hour))
	h.HoldIdleEnds(time.Time{}) // a zero until holds nothing
	h.advance(lim.ExpireAfter)
	if s := must(t)(h.Check(ctx, "saved", lim)); !s.Ended {
		t.Errorf("after the hold was lifted: %+v, want ended", s)
	}
}

func testEndedNowOnce(t *testing.T, newStore func(t *testing.T) storeHarness) {
	tests := []struct {
		name        string
		pastExpiry  bool
		wantReasons []Reason
	}{
		{"past its deadline", true, []Reason{ReasonIdle}},
		{"active", false, []Reason{ReasonLogout, ReasonRevoked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newStore(t)
			ctx := t.Context()
			must(t)(h.Touch(ctx, "s", 0, Terms{Limits: lim}))
			if tt.pastExpiry {
				h.advance(601 * time.Second)
			}
			var (
				wg      sync.WaitGroup
				start   = make(chan struct{})
				endedBy atomic.Int32
			)
			for i := range 50 {
				wg.Go(func() {
					<-start
					var s Snapshot
					var err error
					switch i % 4 {
					case 0:
						s, err = h.Touch(ctx, "s", 0, Terms{Limits: lim})
					case 1:
						s, err = h.Check(ctx, "s", lim)
					case 2:
						s, err = h.End(ctx, "s", ReasonLogout, lim)
					case 3:
						s, err = h.End(ctx, "s", ReasonRevoked, lim)
					}
					if err != nil {
						t.Error(err)
					}
					if s.EndedNow {
						endedBy.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			if n := endedBy.Load(); n != 1 {
				t.Fatalf("%d callers saw EndedNow, want exactly 1", n)
			}
			s := must(t)(h.Check(ctx, "s", lim))
			if !s.Ended || s.EndedNow {
				t.Fatalf("after the race: %+v", s)
			}
			found := false
			for _, r := range tt.wantReasons {
				found = found || s.Reason == r
			}
			if !found {
				t.Errorf("Reason = %q, want one of %q", s.Reason, tt.wantReasons)
			}
		})
	}
}

// testFreshNeverLost races fresh and stale reports of many sessions at one
// instant: the freshest always wins, unlike django-session-security's
// read-modify-write of the whole session.
func testFreshNeverLost(t *testing.T, h storeHarness) {
	ctx := t.Context()
	const rounds, tabs = 200, 8
	var wg sync.WaitGroup
	for r := range rounds {
		wg.Go(func() {
			sid := fmt.Sprintf("round-%d", r)
			var tabsWG sync.WaitGroup
			start := make(chan struct{})
			for _, i := range rand.Perm(tabs) {
				tabsWG.Go(func() {
					<-start
					if _, err := h.Touch(ctx, sid, time.Duration(i+1)*3*time.Second, Terms{Limits: lim}); err != nil {
						t.Error(err)
					}
				})
			}
			close(start)
			tabsWG.Wait()
			s, err := h.Check(ctx, sid, lim)
			if err != nil {
				t.Error(err)
				return
			}
			if want := h.now().Add(-3 * time.Second); !s.Last.Equal(want) {
				t.Errorf("%s: Last = %v, want the freshest report's %v", sid, s.Last, want)
			}
		})
	}
	wg.Wait()
}

func testBadCalls(t *testing.T, h storeHarness) {
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	ctx := t.Context()
	tests := []struct {
		name string
		err  error
	}{
		{"touch canceled", second(h.Touch(canceled, "s", 0, Terms{Limits: lim}))},
		{"check canceled", second(h.Check(canceled, "s", lim))},
		{"end canceled", second(h.End(canceled, "s", ReasonLogout, lim))},
		{"touch without limits", second(h.Touch(ctx, "s", 0, Terms{Limits: Limits{}}))},
		{"check with warn past expire", second(h.Check(ctx, "s", Limits{WarnAfter: time.Hour, ExpireAfter: time.Minute}))},
		{"end with half limits", second(h.End(ctx, "s", ReasonLogout, Limits{ExpireAfter: time.Minute}))},
		{"end for no reason", second(h.End(ctx, "s", "", lim))},
		{"end for an unknown reason", second(h.End(ctx, "s", "expired", lim))},
		{"touch no session", second(h.Touch(ctx, "", 0, Terms{Limits: lim}))},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	if !errors.Is(tests[0].err, context.Canceled) {
		t.Errorf("canceled Touch: %v, want context.Canceled", tests[0].err)
	}
	if s := must(t)(h.Check(ctx, "s", lim)); s.Known || s.Ended {
		t.Errorf("a refused call changed the session: %+v", s)
	}
	if err := h.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func second(_ Snapshot, err error) error { return err }

func testClosed(t *testing.T, h storeHarness) {
	ctx := t.Context()
	for range 2 {
		if err := h.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	for name, err := range map[string]error{
		"Touch": second(h.Touch(ctx, "s", 0, Terms{Limits: lim})),
		"Check": second(h.Check(ctx, "s", lim)),
		"End":   second(h.End(ctx, "s", ReasonLogout, lim)),
		"Ping":  h.Ping(ctx),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}
