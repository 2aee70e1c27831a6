package hub

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
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
