package hub

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// holdRecorder is a store that fails while down and records every hold
// it is told of.
type holdRecorder struct {
	session.Store
	down  bool
	holds []time.Time
}

func (s *holdRecorder) Check(context.Context, string, session.Limits) (session.Snapshot, error) {
	if s.down {
		return session.Snapshot{}, errors.New("dial tcp: connection refused")
	}
	return session.Snapshot{}, nil
}

func (s *holdRecorder) HoldIdleEnds(until time.Time) { s.holds = append(s.holds, until) }

// The node holds idle ends for its grace when it starts, for as long as
// its store fails, and for its grace again once the store answers; a call
// the registry cancelled says nothing of the store.
func TestWatchedStoreHoldsThroughOutages(t *testing.T) {
	clk := clock.NewManual(time.Unix(1000, 0))
	rec := &holdRecorder{}
	core, logs := observer.New(zap.WarnLevel)
	w := newWatchedStore(rec, clk, 8*time.Second, zap.New(core))
	ctx := context.Background()
	if len(rec.holds) != 1 || !rec.holds[0].Equal(clk.Now().Add(8*time.Second)) {
		t.Fatalf("holds at start = %v, want now + 8 s", rec.holds)
	}
	if held := w.held(); !held.Equal(clk.Now().Add(8 * time.Second)) {
		t.Errorf("held() = %v at start", held)
	}
	clk.Advance(10 * time.Second)
	if held := w.held(); !held.IsZero() {
		t.Errorf("held() = %v after the grace, want none", held)
	}
	w.Check(ctx, "s", session.Limits{})
	if len(rec.holds) != 1 {
		t.Fatalf("a success with the store up held again: %v", rec.holds)
	}
	rec.down = true
	for range 5 {
		w.Check(ctx, "s", session.Limits{})
	}
	if len(rec.holds) != 2 || rec.holds[1].Sub(clk.Now()) < 50*365*24*time.Hour {
		t.Fatalf("holds after failures = %v, want one, until the store answers", rec.holds)
	}
	clk.Advance(time.Minute)
	rec.down = false
	w.Check(ctx, "s", session.Limits{})
	if len(rec.holds) != 3 || !rec.holds[2].Equal(clk.Now().Add(8*time.Second)) {
		t.Fatalf("holds once the store answers = %v, want now + 8 s", rec.holds)
	}
	// The outage is logged twice, when it starts and when it ends, not
	// once per failed call.
	if entries := logs.All(); len(entries) != 2 || entries[1].ContextMap()["failed_calls"] != int64(5) {
		t.Errorf("logs = %v, want the outage's start and its end with 5 failed calls", entries)
	}
	w.note(context.Canceled)
	if len(rec.holds) != 3 || w.down.Load() {
		t.Errorf("a cancelled call counted as an outage")
	}
	none := newWatchedStore(&holdRecorder{}, clk, 0, zap.NewNop())
	if held := none.held(); !held.IsZero() {
		t.Errorf("no grace: held() = %v", held)
	}
}

// failingStore is a memory store that fails every call while down, as a
// Redis that cannot be reached. Up, it still fails the Touches of
// activity less than freshFails old, as a Redis that answers some calls
// and not others in the moment it comes back.
type failingStore struct {
	*session.MemoryStore
	down       atomic.Bool
	freshFails atomic.Int64 // a time.Duration
	failed     atomic.Int64 // Touches failed
}

// outageEnv is a node on a failingStore with the given recovery grace,
// past the grace of its own start.
func outageEnv(t *testing.T, grace time.Duration) (*env, *failingStore) {
	var store *failingStore
	e := newEnv(t, func(o *Options) {
		store = &failingStore{MemoryStore: o.Store.(*session.MemoryStore)}
		o.Store = store
		o.RecoveryGrace = grace
	})
	e.advance(grace + time.Second)
	return e, store
}

var errUnreachable = errors.New("dial tcp: connection refused")

// keptActivity is a tab of sid on a node with the given grace, active a
// second after its hello while the store is down, so that the hub keeps
// that activity; it returns the node, its store, the tab and the
// instant of the kept activity. The store stays down.
func keptActivity(t *testing.T, grace time.Duration, sid string) (*env, *failingStore, *testTab, time.Time) {
	t.Helper()
	e, store := outageEnv(t, grace)
	a := e.dial(t)
	a.Hello(e.token(sid), 0)
	e.advance(time.Second)
	store.down.Store(true)
	a.Activity(0) // the store cannot take it: the hub keeps it
	a.Sync()
	return e, store, a, e.clock.Now()
}

// waitWritten waits until the store holds sid's activity at active.
func waitWritten(t *testing.T, e *env, sid string, active time.Time) {
	t.Helper()
	eventually(t, "the kept activity written", func() bool {
		snap, err := e.store.Check(t.Context(), sid, session.Limits{})
		return err == nil && snap.Last.Equal(active)
	})
}

func (s *failingStore) Touch(ctx context.Context, sid string, idle time.Duration, terms session.Terms) (session.Snapshot, error) {
	if s.down.Load() || idle < time.Duration(s.freshFails.Load()) {
		s.failed.Add(1)
		return session.Snapshot{}, errUnreachable
	}
	return s.MemoryStore.Touch(ctx, sid, idle, terms)
}

func (s *failingStore) Ping(ctx context.Context) error {
	if s.down.Load() {
		return errUnreachable
	}
	return s.MemoryStore.Ping(ctx)
}

func (s *failingStore) Check(ctx context.Context, sid string, lim session.Limits) (session.Snapshot, error) {
	if s.down.Load() {
		return session.Snapshot{}, errUnreachable
	}
	return s.MemoryStore.Check(ctx, sid, lim)
}

// A warning that fell due while the store was down waits for half the
// recovery grace: the person working in pages without the script, whose
// application's reports could not reach presence during the outage, is
// not warned once the store is back and the reports arrive; a session
// nobody reports for is warned then, and ends when the grace is over, so
// its person still had half the grace to see the warning.
func TestWarningDueInAnOutageWaitsForTheGrace(t *testing.T) {
	for _, reported := range []bool{true, false} {
		e, store := outageEnv(t, 3*time.Second)
		a := e.dial(t)
		a.Hello(e.token("outage"), 0)
		e.advance(time.Second)
		store.down.Store(true)
		e.advance(5 * time.Second) // the warning falls due at 5 s into the outage
		a.ExpectNothing()
		store.down.Store(false)
		e.advance(storeRetry) // the hub reads the store again: it answers
		a.ExpectNothing()
		if reported {
			if _, err := e.reg.Report(t.Context(), Report{SID: "outage"}); err != nil {
				t.Fatal(err)
			}
			// The tab's own end passed: it hears that the session goes on.
			if st := a.Expect(protocol.TypeState); st.Status != protocol.StatusActive || st.ExpireInMS != testLimits.ExpireAfter.Milliseconds() {
				t.Fatalf("state after the application's report = %+v, want active, expire_after left", st)
			}
		}
		e.advance(1500 * time.Millisecond) // half the grace
		if reported {
			a.ExpectNothing()
			e.advance(3500 * time.Millisecond)
			a.Expect(protocol.TypeWarn) // warn_after after the report: on time
			continue
		}
		a.Expect(protocol.TypeWarn)
		e.advance(1500 * time.Millisecond) // the grace is over
		a.Expect(protocol.TypeExpire)
	}
}

// A warning due in the first half of the recovery grace waits for its
// middle too: another node may still hold activity it could not write
// while the store was down, and writes it within a second of the return.
func TestWarningDueEarlyInTheGraceWaits(t *testing.T) {
	e, store := outageEnv(t, 4*time.Second)
	a := e.dial(t)
	a.Hello(e.token("early"), 0) // warns at 5 s from now
	e.advance(3 * time.Second)
	store.down.Store(true)
	if _, err := e.reg.Report(t.Context(), Report{SID: "other"}); err == nil {
		t.Fatal("a report went through a store that is down")
	}
	e.advance(time.Second)
	store.down.Store(false)
	if _, err := e.reg.Report(t.Context(), Report{SID: "other"}); err != nil { // the store answers: the grace runs for 4 s from here
		t.Fatal(err)
	}
	e.advance(500 * time.Millisecond)
	a.ExpectNothing()
	e.advance(500 * time.Millisecond) // the warning's deadline, within the first half
	a.ExpectNothing()
	e.advance(time.Second) // the middle of the grace
	a.Expect(protocol.TypeWarn)
}

// A tab that joins while a warning waits for the grace is told "active"
// with no time left, which keeps a covered page covered; when another
// tab's activity lifts the session, the tabs told so hear that it goes
// on, so that their pages show again.
func TestTabsToldOfAHeldWarningHearItLifted(t *testing.T) {
	e, store := outageEnv(t, 4*time.Second)
	a := e.dial(t)
	a.Hello(e.token("held"), 0)
	store.down.Store(true)
	e.advance(testLimits.ExpireAfter + time.Second) // past the end, in the outage
	a.ExpectNothing()
	store.down.Store(false)
	e.advance(storeRetry) // the store answers: the grace holds the warning and the end
	a.ExpectNothing()
	b := e.dial(t)
	if st := b.Hello(e.token("held"), testLimits.ExpireAfter.Milliseconds()); st.Status != protocol.StatusActive || st.ExpireInMS != 0 {
		t.Fatalf("state of a tab joining in the grace = %+v, want active with no time left", st)
	}
	c := e.dial(t)
	c.Hello(e.token("held"), 0) // the person is back
	for name, tb := range map[string]*testTab{"the joined tab": b, "the first tab": a} {
		f := tb.Expect(protocol.TypeState)
		if f.Status != protocol.StatusActive || f.ExpireInMS != testLimits.ExpireAfter.Milliseconds() {
			t.Errorf("%s got %+v, want active with expire_after left", name, f)
		}
	}
	c.ExpectNothing()
}

// Activity a node kept while its store was down is written as soon as
// the store answers again, not at the hub's next retry: the other nodes
// warn from the store once the middle of their grace has passed.
func TestKeptActivityIsWrittenWhenTheStoreIsBack(t *testing.T) {
	e, store, _, active := keptActivity(t, 4*time.Second, "kept")
	e.advance(500 * time.Millisecond)
	store.down.Store(false)
	if _, err := e.reg.Report(t.Context(), Report{SID: "other"}); err != nil { // the store answers again
		t.Fatal(err)
	}
	waitWritten(t, e, "kept", active)
}

// Activity a node keeps because its store could not take it counts in
// what the node decides and tells its tabs, although the store's answers
// do not show it yet: a tab joining with an older view of the session
// brings no warning to the tab that was active. With no grace, so that
// only this rule stands between the person and the warning.
func TestKeptActivityCountsBeforeItIsWritten(t *testing.T) {
	e, store, a, _ := keptActivity(t, -1, "kept-known")
	for range 9 { // the hub's retries fail
		e.advance(500 * time.Millisecond)
	}
	// The store is back, but fails the write of the kept activity.
	store.freshFails.Store(int64(testLimits.WarnAfter))
	store.down.Store(false)
	// 5.5 s after the hello, 4.5 s after the kept activity: the store
	// says warn, the node knows better.
	b := e.dial(t)
	st := b.Hello(e.token("kept-known"), testLimits.WarnAfter.Milliseconds())
	if st.Status != protocol.StatusActive || st.IdleMS > 4600 {
		t.Errorf("state of the joining tab = %+v, want active and idle since the kept activity", st)
	}
	a.ExpectNothing()
}

// A write of kept activity that fails while the store is coming back is
// tried again within a tick or two, not a second later: the other nodes
// warn from the store once the middle of their grace has passed.
func TestKeptActivityIsRetriedSoonWhileTheStoreComesBack(t *testing.T) {
	e, store, _, active := keptActivity(t, 4*time.Second, "flapping")
	e.advance(500 * time.Millisecond)
	// The store answers a read, then fails the write of the kept
	// activity that its return sets off.
	store.freshFails.Store(int64(time.Minute))
	failed := store.failed.Load()
	store.down.Store(false)
	e.lookup(t, "other")
	eventually(t, "the kept activity's write tried and failed", func() bool { return store.failed.Load() > failed })
	store.freshFails.Store(0)
	e.advance(2 * keptRetry)
	waitWritten(t, e, "flapping", active)
}

// A node learns that its store answers again within a probe's period,
// though nothing else calls it, and writes the activity it kept then,
// rather than at its hub's next retry a second later.
func TestKeptActivityIsWrittenSoonAfterTheStoreReturns(t *testing.T) {
	e, store, _, active := keptActivity(t, 4*time.Second, "probed")
	e.advance(probeEvery) // a probe fails
	store.down.Store(false)
	e.advance(probeEvery + 100*time.Millisecond) // the next succeeds; the retry is still 0.65 s away
	waitWritten(t, e, "probed", active)
}

// A registry on the system clock, left alone past its prober's first
// tick, as a node just started is: the timer's own callback finds its
// timer set (the race detector watches).
func TestRegistryTimersOnTheSystemClock(t *testing.T) {
	store := session.NewMemoryStore(session.MemoryOptions{})
	defer store.Close()
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := New(Options{Store: store, Verifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * probeEvery)
	reg.Close()
}

// At debug a node logs each tab joining its session, and its close, with
// the session id, as docs/configuration.md says.
func TestTabJoinAndCloseAreLoggedAtDebug(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	e := newEnv(t, func(o *Options) { o.Logger = zap.New(core) })
	a := e.dial(t)
	a.Hello(e.token("logged"), 0)
	eventually(t, "the join logged", func() bool {
		return logs.FilterMessage("tab joined").FilterField(zap.String("sid", "logged")).Len() == 1
	})
	a.Conn.Close(websocket.StatusNormalClosure, "")
	eventually(t, "the close logged", func() bool {
		return logs.FilterMessage("tab closed").FilterField(zap.String("sid", "logged")).Len() == 1
	})
}
