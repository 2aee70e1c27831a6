package hub

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// A report registers a session presence has not seen, with its limits;
// the node then decides its deadlines with no tab open, and reports its
// end once.
func TestReportWatchesASessionWithoutTabs(t *testing.T) {
	e := newEnv(t)
	lim := session.Limits{WarnAfter: 20 * time.Second, ExpireAfter: 30 * time.Second}
	s, err := e.reg.Report(t.Context(), Report{SID: "s1", UID: "u1", Limits: lim, Idle: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := Session{SID: "s1", Position: session.Position{Status: session.StatusActive, Idle: 2 * time.Second, ExpireIn: 28 * time.Second}, Limits: lim}
	if s != want {
		t.Fatalf("Report = %+v, want %+v", s, want)
	}
	e.advance(27 * time.Second)
	if s := e.lookup(t, "s1"); s.Status != session.StatusWarning || s.ExpireIn != time.Second {
		t.Fatalf("Lookup = %+v, want warning, 1 s left", s)
	}
	e.advance(time.Second)
	eventually(t, "the end reported", func() bool { return len(e.endsSoFar()) == 1 })
	if end := e.endsSoFar()[0]; end.SID != "s1" || end.UID != "u1" || end.Reason != session.ReasonIdle {
		t.Errorf("end = %+v, want s1, u1, idle", end)
	}
	// Nothing revives it, and it is not reported again.
	for _, rep := range []Report{{SID: "s1"}, {SID: "s1", Limits: lim}, {SID: "s1", Passive: true}} {
		if s, err := e.reg.Report(t.Context(), rep); err != nil || s.Status != session.StatusExpired || s.Reason != session.ReasonIdle {
			t.Errorf("Report(%+v) after the end = %+v, %v; want expired, idle", rep, s, err)
		}
	}
	if n := len(e.endsSoFar()); n != 1 {
		t.Errorf("%d ends, want 1", n)
	}
}

// A report without limits uses the session's own, as the node or the
// store keeps them, and the server's defaults for a session never seen.
func TestReportWithoutLimits(t *testing.T) {
	e := newEnv(t)
	s, err := e.reg.Report(t.Context(), Report{SID: "new"})
	if err != nil || s.Limits != testLimits || s.Status != session.StatusActive {
		t.Fatalf("Report of a new session = %+v, %v; want the defaults %v", s, err, testLimits)
	}
	a := e.dial(t)
	a.Hello(e.mint(session.Claims{SID: "long", WarnAfter: 50, ExpireAfter: 60}), 0)
	e.advance(20 * time.Second) // past the defaults, within the token's limits
	s, err = e.reg.Report(t.Context(), Report{SID: "long", Idle: 15 * time.Second})
	if err != nil || s.Status != session.StatusActive || s.Limits.ExpireAfter != 60*time.Second || s.Idle != 15*time.Second {
		t.Fatalf("Report = %+v, %v; want active by the token's limits", s, err)
	}
	a.ExpectNothing()
}

// A passive report moves no activity; for a session never seen it starts
// one, idle ago.
func TestPassiveReport(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.token("s1"), 0)
	e.advance(3 * time.Second)
	s, err := e.reg.Report(t.Context(), Report{SID: "s1", Passive: true})
	if err != nil || s.Idle != 3*time.Second {
		t.Fatalf("passive Report = %+v, %v; want idle 3 s", s, err)
	}
	s, err = e.reg.Report(t.Context(), Report{SID: "fresh", Idle: 4 * time.Second, Passive: true})
	if err != nil || s.Status != session.StatusActive || s.Idle != 4*time.Second {
		t.Fatalf("passive Report of a new session = %+v, %v; want active, idle 4 s", s, err)
	}
	e.advance(2 * time.Second)
	a.Expect(protocol.TypeWarn)
}

func TestLookupAndEnd(t *testing.T) {
	e := newEnv(t)
	if s := e.lookup(t, "nobody"); s.Status != session.StatusUnknown || s.Tabs != 0 {
		t.Errorf("Lookup of an unknown session = %+v", s)
	}
	if n := e.reg.Sessions(); n != 0 {
		t.Errorf("a Lookup made %d hubs, want none", n)
	}
	a, b := e.dial(t), e.dial(t)
	a.Hello(e.mint(session.Claims{SID: "s1", UID: "u1"}), 0)
	b.Hello(e.token("s1"), 0)
	if s := e.lookup(t, "s1"); s.Tabs != 2 || s.Status != session.StatusActive {
		t.Errorf("Lookup = %+v, want two tabs, active", s)
	}
	s, err := e.reg.End(t.Context(), "s1", session.ReasonRevoked)
	if err != nil || s.Status != session.StatusExpired || s.Reason != session.ReasonRevoked {
		t.Fatalf("End = %+v, %v", s, err)
	}
	for _, tab := range []*testTab{a, b} {
		if f := tab.Expect(protocol.TypeExpire); f.Reason != protocol.ReasonRevoked {
			t.Errorf("expire reason %q, want revoked", f.Reason)
		}
	}
	if ends := e.endsSoFar(); len(ends) != 1 || ends[0].UID != "u1" {
		t.Errorf("ends = %+v, want one, of u1", ends)
	}
}

// The state frame and the Registry's Position (what the server API
// answers) follow one rule: they agree on either side of the warning.
func TestStateFrameAndLookupAgreeAtTheWarnBoundary(t *testing.T) {
	for _, c := range []struct {
		idle time.Duration
		want session.Status
	}{
		{4999 * time.Millisecond, session.StatusActive},
		{5 * time.Second, session.StatusWarning},
	} {
		t.Run(c.idle.String(), func(t *testing.T) {
			e := newEnv(t)
			a := e.dial(t)
			a.Hello(e.token("s1"), 0)
			e.advance(c.idle)
			b := e.dial(t)
			b.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s1"), Passive: true})
			st := b.Expect(protocol.TypeState)
			s := e.lookup(t, "s1")
			if string(st.Status) != string(c.want) || s.Status != c.want {
				t.Errorf("state frame %q, Lookup %q; want both %q", st.Status, s.Status, c.want)
			}
			if time.Duration(st.ExpireInMS)*time.Millisecond != s.ExpireIn {
				t.Errorf("state frame expire_in_ms %d, Lookup %v; want the same", st.ExpireInMS, s.ExpireIn)
			}
		})
	}
}

// hangingStore is a memory store whose calls, once hang is called, never
// answer, whatever their ctx says, as a store stuck on a dead network
// connection without a deadline would.
type hangingStore struct {
	*session.MemoryStore
	hanging atomic.Bool
	release chan struct{}
	calls   chan struct{}
}

func (s *hangingStore) stuck() bool {
	if !s.hanging.Load() {
		return false
	}
	s.calls <- struct{}{}
	<-s.release
	return true
}

func (s *hangingStore) Touch(ctx context.Context, sid string, idle time.Duration, terms session.Terms) (session.Snapshot, error) {
	if s.stuck() {
		return session.Snapshot{}, errors.New("released")
	}
	return s.MemoryStore.Touch(ctx, sid, idle, terms)
}

func (s *hangingStore) Check(ctx context.Context, sid string, lim session.Limits) (session.Snapshot, error) {
	if s.stuck() {
		return session.Snapshot{}, errors.New("released")
	}
	return s.MemoryStore.Check(ctx, sid, lim)
}

// Shutdown returns by its deadline even while store calls hang in a
// deadline worker, a tab and a request, so that a node stops within 10 s
// of SIGTERM whatever its store does.
func TestShutdownIsBoundedByItsDeadline(t *testing.T) {
	store := &hangingStore{release: make(chan struct{}), calls: make(chan struct{}, 64)}
	e := newEnv(t, func(o *Options) { store.MemoryStore = o.Store.(*session.MemoryStore); o.Store = store })
	released := false
	release := func() {
		if !released {
			released = true
			close(store.release)
		}
	}
	t.Cleanup(release) // let the hung goroutines go before the leak check
	a := e.dial(t)
	a.Hello(e.token("s1"), 0)
	store.hanging.Store(true)
	e.advance(5 * time.Second)
	<-store.calls // the warn deadline's worker waits on the store
	b := e.dial(t)
	b.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s2")})
	<-store.calls // a hello waits on it
	go e.reg.Report(context.Background(), Report{SID: "s3"})
	<-store.calls // so does a request

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := e.reg.Shutdown(ctx)
	if took := time.Since(start); took > time.Second {
		t.Errorf("Shutdown took %v with a 300 ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the deadline's error", err)
	}
	release()
	a.ExpectClose(protocol.CloseServiceRestart)
}

// slowChecks is a store that answers batches, and takes 2 s of the
// manual clock over each Check of s3.
type slowChecks struct {
	*session.MemoryStore
	clock   *clock.Manual
	batches atomic.Int32
}

func (s *slowChecks) Check(ctx context.Context, sid string, lim session.Limits) (session.Snapshot, error) {
	if sid == "s3" {
		s.clock.Advance(2 * time.Second)
	}
	return s.MemoryStore.Check(ctx, sid, lim)
}

func (s *slowChecks) Batch(ctx context.Context, calls []session.Call) []session.Result {
	s.batches.Add(1)
	return session.Batch(ctx, s.MemoryStore, calls)
}

// ReportAll sends the reports whose limits are known in one batch, and
// counts every idle time from the call: the time the reports wait on the
// store is not activity, or a slow store would push deadlines later.
func TestReportAllCountsIdleFromTheCall(t *testing.T) {
	var store *slowChecks
	e := newEnv(t, func(o *Options) {
		store = &slowChecks{MemoryStore: o.Store.(*session.MemoryStore), clock: o.Clock.(*clock.Manual)}
		o.Store = store
	})
	lim := session.Limits{WarnAfter: 20 * time.Second, ExpireAfter: 30 * time.Second}
	got, err := e.reg.ReportAll(t.Context(), []Report{
		{SID: "s3"}, // no limits: the store says which first (2 s), one by one
		{SID: "s1", UID: "u1", Limits: lim, Idle: time.Second},
		{SID: "s2", Limits: lim, Idle: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := store.batches.Load(); n != 1 {
		t.Errorf("%d batches, want 1", n)
	}
	if len(got) != 3 || got[0].SID != "s3" || got[1].SID != "s1" || got[2].SID != "s2" {
		t.Fatalf("ReportAll = %+v, want s3, s1, s2 in order", got)
	}
	if got[0].Status != session.StatusActive || got[0].Limits != testLimits {
		t.Errorf("s3 = %+v, want active by the defaults", got[0])
	}
	for i, want := range map[int]time.Duration{1: 3 * time.Second, 2: 7 * time.Second} {
		if got[i].Status != session.StatusActive || got[i].Idle != want || got[i].Limits != lim {
			t.Errorf("%s = %+v, want active, idle %v: its report's idle plus the 2 s s3 took", got[i].SID, got[i], want)
		}
	}
	// s1 ends 30 s after its activity, 29 s after the call began.
	e.advance(27*time.Second - time.Millisecond)
	if s := e.lookup(t, "s1"); s.Status != session.StatusWarning {
		t.Fatalf("s1 just before its deadline = %+v, want warning", s)
	}
	e.advance(time.Millisecond)
	if s := e.lookup(t, "s1"); s.Status != session.StatusExpired {
		t.Fatalf("s1 at its deadline = %+v, want expired", s)
	}
	// s3 ends too, by the defaults, whenever its deadline's worker runs.
	eventually(t, "s1's end", func() bool {
		return slices.ContainsFunc(e.endsSoFar(), func(end End) bool { return end.SID == "s1" && end.UID == "u1" })
	})
}
