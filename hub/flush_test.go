package hub

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// countingStore counts the activity the store is told of, by single calls
// and in batches.
type countingStore struct {
	*session.MemoryStore
	touches atomic.Int64
}

func (s *countingStore) Touch(ctx context.Context, sid string, idle time.Duration, terms session.Terms) (session.Snapshot, error) {
	s.touches.Add(1)
	return s.MemoryStore.Touch(ctx, sid, idle, terms)
}

func flushingEnv(t *testing.T) (*env, *countingStore) {
	var store *countingStore
	e := newEnv(t, func(o *Options) {
		store = &countingStore{MemoryStore: o.Store.(*session.MemoryStore)}
		o.Store = store
		o.FlushEvery = 5 * time.Second
	})
	return e, store
}

// With FlushEvery, a busy tab's activity is written once per interval (a
// tenth of warn_after here: 500 ms), the latest replacing what waits, and
// the store ends up with the newest activity.
func TestActivityIsWrittenOncePerInterval(t *testing.T) {
	e, store := flushingEnv(t)
	a := e.dial(t)
	a.Hello(e.token("busy"), 0)
	written := store.touches.Load()
	for range 8 {
		e.advance(250 * time.Millisecond)
		// A flush due now goes before the frame, as it would in real
		// time; a frame racing it would be written too, being the first
		// after an interval.
		eventually(t, "the flushes due done", func() bool { return e.reg.wheel.caughtUp(e.clock.Now()) && e.reg.due.idle() })
		a.Activity(0)
		a.Sync()
	}
	e.advance(500 * time.Millisecond)
	eventually(t, "the last activity written", func() bool {
		snap, _ := store.Check(t.Context(), "busy", testLimits)
		return snap.Idle() <= 500*time.Millisecond
	})
	n := store.touches.Load() - written
	t.Logf("8 frames, %d writes", n)
	if n > 6 || n < 2 {
		t.Errorf("8 activity frames over 2 s were written %d times, want one per 500 ms flush", n)
	}
	a.ExpectNothing()
}

// Close to the warn deadline the store knows of, activity is written at
// once: another node may be about to warn, and reads the store.
func TestActivityNearTheWarningIsWrittenAtOnce(t *testing.T) {
	e, store := flushingEnv(t)
	a := e.dial(t)
	a.Hello(e.token("near"), 0)
	e.advance(4200 * time.Millisecond) // warn at 5 s; two intervals are 1 s
	before := store.touches.Load()
	a.Activity(0)
	a.Sync()
	if store.touches.Load() == before {
		t.Error("activity 0.8 s before the warning waited for a flush")
	}
	snap, _ := store.Check(t.Context(), "near", testLimits)
	if snap.Idle() != 0 {
		t.Errorf("the store's idle is %v, want the activity just sent", snap.Idle())
	}
}

// Activity that waits for a flush still keeps the session's tabs on this
// node from warning, and the session ends only at the end of its own
// idleness.
func TestDeferredActivityKeepsTheSession(t *testing.T) {
	e, _ := flushingEnv(t)
	a := e.dial(t)
	a.Hello(e.token("kept"), 0)
	for range 12 {
		e.advance(time.Second)
		a.Activity(0)
		a.Sync()
	}
	a.ExpectNothing()
	e.advance(5 * time.Second)
	a.Expect(protocol.TypeWarn)
	e.advance(5 * time.Second)
	a.Expect(protocol.TypeExpire)
}

// slowStore is a memory store whose Touch waits until it is let go, as a
// store whose connections are all busy under a burst.
type slowStore struct {
	*session.MemoryStore
	hold    atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *slowStore) Touch(ctx context.Context, sid string, idle time.Duration, terms session.Terms) (session.Snapshot, error) {
	if s.hold.Load() {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.MemoryStore.Touch(ctx, sid, idle, terms)
}

// Activity whose write the store is slow to answer counts as known while
// the write is out: the deadline that falls meanwhile warns nobody, though
// the tab's next frames wait behind the write.
func TestActivityBeingWrittenKeepsTheSession(t *testing.T) {
	var store *slowStore
	e := newEnv(t, func(o *Options) {
		store = &slowStore{MemoryStore: o.Store.(*session.MemoryStore), entered: make(chan struct{}), release: make(chan struct{})}
		o.Store = store
	})
	a := e.dial(t)
	a.Hello(e.token("slow"), 0)
	e.advance(4 * time.Second)
	store.hold.Store(true)
	a.Activity(0)
	<-store.entered            // the write is out
	e.advance(2 * time.Second) // past the warning the hello's activity set
	a.ExpectNothing()
	store.hold.Store(false)
	close(store.release)
	a.Sync()
	// The store took the activity as of when the write reached it, 2 s
	// late here: the warning comes warn_after after that.
	e.advance(4500 * time.Millisecond)
	a.ExpectNothing()
	e.advance(500 * time.Millisecond)
	a.Expect(protocol.TypeWarn)
}
