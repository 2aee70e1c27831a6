package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	testStore(t, func(t *testing.T) storeHarness {
		clk := clock.NewManual(t0)
		s := NewMemoryStore(MemoryOptions{Clock: clk})
		t.Cleanup(func() { s.Close() })
		return storeHarness{Store: s, now: clk.Now, advance: clk.Advance}
	})
}

// sweptStore is a MemoryStore whose sweeps a test can wait for.
type sweptStore struct {
	*MemoryStore
	clk   *clock.Manual
	swept chan struct{}
}

func newSweptStore(t *testing.T, opts MemoryOptions, shards int) *sweptStore {
	t.Helper()
	clk := clock.NewManual(t0)
	opts.Clock = clk
	swept := make(chan struct{}, 1)
	onSweep := func() {
		select {
		case swept <- struct{}{}:
		default: // the test is not waiting for this sweep
		}
	}
	s := &sweptStore{newMemoryStore(opts, shards, onSweep), clk, swept}
	t.Cleanup(func() { s.Close() })
	return s
}

// tick advances the clock by d, which must cross one sweep period, and
// waits for the sweep it starts.
func (s *sweptStore) tick(t *testing.T, d time.Duration) {
	t.Helper()
	s.clk.Advance(d)
	select {
	case <-s.swept:
	case <-time.After(10 * time.Second): // a guard, not a wait: sweeps take microseconds
		t.Fatal("no sweep")
	}
}

// peek returns the entry of sid without applying any rule.
func (s *MemoryStore) peek(sid string) (entry, bool) {
	for _, sh := range s.shards {
		sh.mu.Lock()
		e, ok := sh.m[sid]
		sh.mu.Unlock()
		if ok {
			return e, true
		}
	}
	return entry{}, false
}

func TestMemorySweeper(t *testing.T) {
	t.Parallel()
	s := newSweptStore(t, MemoryOptions{Retention: time.Hour, SweepEvery: time.Minute}, 4)
	ctx := t.Context()
	must(t)(s.Touch(ctx, "a", 0, Terms{Limits: lim}))             // deadline t0+10m
	must(t)(s.Touch(ctx, "b", 5*time.Minute, Terms{Limits: lim})) // deadline t0+5m
	must(t)(s.End(ctx, "c", ReasonLogout, lim))                   // mark dropped at t0+1h
	must(t)(s.Touch(ctx, "d", 0, Terms{Limits: longLim}))         // deadline t0+2h
	must(t)(s.Touch(ctx, "d", 0, Terms{Limits: lim}))             // still t0+2h: the longest wins
	steps := []struct {
		advance time.Duration
		swept   []string // ended by the sweep, unannounced
		dropped []string
		len     int
	}{
		{4 * time.Minute, nil, nil, 4},
		{time.Minute, []string{"b"}, nil, 4},
		{5 * time.Minute, []string{"a"}, nil, 4},
		{50 * time.Minute, nil, []string{"c"}, 3},
		{5 * time.Minute, nil, []string{"b"}, 2},
		{5 * time.Minute, nil, []string{"a"}, 1},
		{50 * time.Minute, []string{"d"}, nil, 1},
		{time.Hour, nil, []string{"d"}, 0},
	}
	for i, st := range steps {
		s.tick(t, st.advance)
		for _, sid := range st.swept {
			e, ok := s.peek(sid)
			if !ok || e.reason != endedIdle || e.flags&announced != 0 || e.endedAt != e.last+int64(10*time.Minute) && sid != "d" {
				t.Errorf("step %d: %s = %+v, %v; want swept at its deadline", i, sid, e, ok)
			}
		}
		for _, sid := range st.dropped {
			if e, ok := s.peek(sid); ok {
				t.Errorf("step %d: %s = %+v, want dropped", i, sid, e)
			}
		}
		if n := s.Len(); n != st.len {
			t.Errorf("step %d: Len = %d, want %d", i, n, st.len)
		}
		if i == 1 {
			// The first caller after the sweep is the one told.
			wantEnded(t, must(t)(s.Check(ctx, "b", lim)), t0.Add(5*time.Minute), ReasonIdle, true)
			wantEnded(t, must(t)(s.Check(ctx, "b", lim)), t0.Add(5*time.Minute), ReasonIdle, false)
		}
	}
	// Once its mark is gone, a session id starts afresh.
	if snap := must(t)(s.Touch(ctx, "a", 0, Terms{Limits: lim})); !snap.Known || snap.Ended {
		t.Errorf("Touch after retention = %+v, want a new session", snap)
	}
}

// The sweeper ends no session for idleness while idle ends are held.
func TestMemorySweeperHolds(t *testing.T) {
	t.Parallel()
	s := newSweptStore(t, MemoryOptions{Retention: time.Hour, SweepEvery: time.Minute}, 4)
	must(t)(s.Touch(t.Context(), "a", 0, Terms{Limits: lim})) // deadline t0+10m
	s.HoldIdleEnds(t0.Add(20 * time.Minute))
	s.tick(t, 15*time.Minute)
	if e, _ := s.peek("a"); e.reason != active {
		t.Fatalf("swept during the hold: %+v", e)
	}
	s.tick(t, 10*time.Minute)
	if e, _ := s.peek("a"); e.reason != endedIdle || e.endedAt != t0.Add(10*time.Minute).UnixNano() {
		t.Errorf("after the hold: %+v, want swept at its deadline", e)
	}
}

// TestMemoryRetentionFromMark checks that a mark is kept for Retention
// after the store learns of an end, even when the end lies further back.
func TestMemoryRetentionFromMark(t *testing.T) {
	t.Parallel()
	s := newSweptStore(t, MemoryOptions{Retention: time.Hour, SweepEvery: time.Minute}, 1)
	ctx := t.Context()
	s.tick(t, 3*time.Hour)
	wantEnded(t, must(t)(s.Touch(ctx, "s", 2*time.Hour, Terms{Limits: lim})), s.clk.Now().Add(-110*time.Minute), ReasonIdle, true)
	s.tick(t, 59*time.Minute)
	wantEnded(t, must(t)(s.Touch(ctx, "s", 0, Terms{Limits: lim})), s.clk.Now().Add(-169*time.Minute), ReasonIdle, false)
	s.tick(t, time.Minute)
	if n := s.Len(); n != 0 {
		t.Errorf("Len = %d an hour after the mark, want 0", n)
	}
}

// TestMemoryShrink checks that a shard's map is rebuilt once a burst of
// sessions has gone, so the store's memory follows its sessions down.
func TestMemoryShrink(t *testing.T) {
	t.Parallel()
	s := newSweptStore(t, MemoryOptions{Retention: time.Minute, SweepEvery: time.Minute}, 1)
	ctx := t.Context()
	for i := range 5000 {
		must(t)(s.End(ctx, fmt.Sprint("s", i), ReasonRevoked, lim))
	}
	must(t)(s.Touch(ctx, "stays", 0, Terms{Limits: longLim}))
	if got := s.shards[0].peak; got != 5001 {
		t.Fatalf("peak = %d, want 5001", got)
	}
	s.tick(t, time.Minute)
	if n, peak := s.Len(), s.shards[0].peak; n != 1 || peak != 1 {
		t.Errorf("after the sweep: Len %d, peak %d; want 1, 1", n, peak)
	}
	if _, ok := s.peek("stays"); !ok {
		t.Error("the rebuilt map lost an active session")
	}
}

func TestMemoryCheckAddsNothing(t *testing.T) {
	t.Parallel()
	s := newSweptStore(t, MemoryOptions{}, memoryShards)
	for i := range 100 {
		must(t)(s.Check(t.Context(), fmt.Sprint("s", i), lim))
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len = %d after Checks of unknown sessions, want 0", n)
	}
}

func TestMemoryDefaults(t *testing.T) {
	t.Parallel()
	s := NewMemoryStore(MemoryOptions{})
	defer s.Close()
	if got, want := time.Duration(s.retention), 12*time.Hour+MaxClockSkew; got != want {
		t.Errorf("retention = %v, want %v", got, want)
	}
	if len(s.shards) != memoryShards {
		t.Errorf("%d shards, want %d", len(s.shards), memoryShards)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// TestMemoryCloseConcurrent closes a store from many goroutines at once,
// while it sweeps; goleak in TestMain checks the sweeper is gone.
func TestMemoryCloseConcurrent(t *testing.T) {
	t.Parallel()
	s := newSweptStore(t, MemoryOptions{}, 4)
	must(t)(s.Touch(t.Context(), "s", 0, Terms{Limits: lim}))
	s.clk.Advance(time.Hour)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Ping(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
}

// benchSIDs returns n session ids in random order.
func benchSIDs(n int) []string {
	sids := make([]string, n)
	for i := range sids {
		sids[i] = fmt.Sprintf("%032x", rand.Uint64())
	}
	return sids
}

// BenchmarkMemoryTouch Touches 65536 sessions in turn from one goroutine.
func BenchmarkMemoryTouch(b *testing.B) {
	s := NewMemoryStore(MemoryOptions{})
	b.Cleanup(func() { s.Close() })
	sids := benchSIDs(1 << 16)
	ctx := context.Background()
	for _, sid := range sids {
		s.Touch(ctx, sid, 0, Terms{Limits: lim})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Touch(ctx, sids[i&(len(sids)-1)], 0, Terms{Limits: lim}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMemoryTouchParallel compares one shard with the store's shard
// count, Touching many sessions from every CPU.
func BenchmarkMemoryTouchParallel(b *testing.B) {
	sids := benchSIDs(1 << 16)
	for _, shards := range []int{1, memoryShards} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			s := newMemoryStore(MemoryOptions{}, shards, nil)
			b.Cleanup(func() { s.Close() })
			ctx := context.Background()
			for _, sid := range sids {
				s.Touch(ctx, sid, 0, Terms{Limits: lim})
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(len(sids))
				for pb.Next() {
					if _, err := s.Touch(ctx, sids[i&(len(sids)-1)], 0, Terms{Limits: lim}); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
