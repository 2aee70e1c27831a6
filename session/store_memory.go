package session

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presence-dev/presence/internal/clock"
)

// MemoryOptions configures NewMemoryStore.
type MemoryOptions struct {
	// Clock is the store's clock. Nil means clock.System().
	Clock clock.Clock
	// Retention is how long an ended mark is kept after the store learns
	// of the end, so that a token minted before the end can never start
	// the session afresh. The server passes its token max age plus
	// MaxClockSkew. Zero means 12h + MaxClockSkew.
	Retention time.Duration
	// SweepEvery is how often the sweeper ends idle sessions and drops
	// old marks. Zero means 1 minute.
	SweepEvery time.Duration
}

// MemoryStore is a Store for a single node, in memory. Its memory stays
// bounded: an active session is kept until its idle deadline (by the
// longest ExpireAfter it was touched or checked with), when the sweeper
// turns it into an ended mark, which is dropped after Retention. Each
// session costs a map entry of its id, 64 bytes and its user's id.
type MemoryStore struct {
	clock     clock.Clock
	retention int64        // nanoseconds
	holdUntil atomic.Int64 // unix nanoseconds on clock; see HoldIdleEnds
	seed      maphash.Seed
	shards    []*memoryShard
	onSweep   func() // test hook, run after each sweep

	closed    atomic.Bool
	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
}

var _ Store = (*MemoryStore)(nil)

// memoryShards is how many shards a MemoryStore splits its sessions into,
// so that Touches of different sessions rarely wait for one another; see
// BenchmarkMemoryTouchParallel.
const memoryShards = 64

// memoryShard holds the sessions whose id hashes to it, padded to a cache
// line so that neighbouring shards' locks do not share one.
type memoryShard struct {
	mu   sync.Mutex
	m    map[string]entry
	peak int // largest len(m) since the map was last rebuilt
	_    [40]byte
}

// NewMemoryStore returns a MemoryStore and starts its sweeper goroutine,
// which Close stops.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	return newMemoryStore(opts, memoryShards, nil)
}

func newMemoryStore(opts MemoryOptions, shards int, onSweep func()) *MemoryStore {
	if opts.Clock == nil {
		opts.Clock = clock.System()
	}
	if opts.Retention <= 0 {
		opts.Retention = defaultMaxAge + MaxClockSkew
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = time.Minute
	}
	s := &MemoryStore{
		clock:     opts.Clock,
		retention: int64(opts.Retention),
		seed:      maphash.MakeSeed(),
		shards:    make([]*memoryShard, shards),
		onSweep:   onSweep,
		done:      make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i] = &memoryShard{m: make(map[string]entry)}
	}
	s.wg.Add(1)
	go s.sweeper(opts.Clock.NewTicker(opts.SweepEvery))
	return s
}

// Touch implements Store.
func (s *MemoryStore) Touch(ctx context.Context, sid string, idle time.Duration, terms Terms) (Snapshot, error) {
	if err := s.usable(ctx, sid, terms.Limits, false); err != nil {
		return Snapshot{}, err
	}
	if err := checkUID(terms.UID); err != nil {
		return Snapshot{}, err
	}
	return s.apply(sid, func(m moment, e entry, known bool) (entry, bool, bool) {
		return m.touch(e, known, idle, terms)
	}), nil
}

// Check implements Store.
func (s *MemoryStore) Check(ctx context.Context, sid string, lim Limits) (Snapshot, error) {
	if err := s.usable(ctx, sid, lim, true); err != nil {
		return Snapshot{}, err
	}
	return s.apply(sid, func(m moment, e entry, known bool) (entry, bool, bool) {
		return m.check(e, known, lim)
	}), nil
}

// End implements Store.
func (s *MemoryStore) End(ctx context.Context, sid string, reason Reason, lim Limits) (Snapshot, error) {
	if err := s.usable(ctx, sid, lim, true); err != nil {
		return Snapshot{}, err
	}
	code, ok := codeOf(reason)
	if !ok {
		return Snapshot{}, fmt.Errorf("session: end: unknown reason %q; use idle, logout, revoked or lifetime", reason)
	}
	return s.apply(sid, func(m moment, e entry, known bool) (entry, bool, bool) {
		return m.end(e, known, code, lim)
	}), nil
}

// HoldIdleEnds implements Store; until is on the store's Clock.
func (s *MemoryStore) HoldIdleEnds(until time.Time) {
	if until.IsZero() {
		s.holdUntil.Store(0)
		return
	}
	s.holdUntil.Store(until.UnixNano())
}

// moment returns the rules' moment now.
func (s *MemoryStore) moment() moment {
	now := s.clock.Now().UnixNano()
	return moment{now: now, retention: s.retention, hold: now < s.holdUntil.Load()}
}

// Ping implements Store: it returns nil unless the store is closed.
func (s *MemoryStore) Ping(context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close stops the sweeper and waits for it. It is idempotent.
func (s *MemoryStore) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.wg.Wait()
	})
	return nil
}

// Len returns how many sessions the store holds, active or ended.
func (s *MemoryStore) Len() int {
	n := 0
	for _, sh := range s.shards {
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

func (s *MemoryStore) usable(ctx context.Context, sid string, lim Limits, optional bool) error {
	return checkCall(ctx, s.closed.Load(), sid, lim, optional)
}

// apply runs one timeline rule on sid under its shard's lock. The clock is
// read under the lock, so the calls on one session see Now in order.
func (s *MemoryStore) apply(sid string, rule func(moment, entry, bool) (entry, bool, bool)) Snapshot {
	sh := s.shards[maphash.String(s.seed, sid)%uint64(len(s.shards))]
	sh.mu.Lock()
	m := s.moment()
	e, known := sh.m[sid]
	next, keep, endedNow := rule(m, e, known)
	if keep && (!known || next != e) {
		sh.m[sid] = next
		sh.peak = max(sh.peak, len(sh.m))
	}
	sh.mu.Unlock()
	return m.snapshot(next, keep, endedNow)
}

func (s *MemoryStore) sweeper(t clock.Ticker) {
	defer s.wg.Done()
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C():
			s.sweep()
		}
	}
}

// sweep walks the shards one at a time, holding one shard's lock at once:
// it ends active sessions past their deadline and drops ended marks past
// retention.
func (s *MemoryStore) sweep() {
	for _, sh := range s.shards {
		select {
		case <-s.done:
			return
		default:
		}
		sh.mu.Lock()
		m := s.moment()
		for sid, e := range sh.m {
			switch next, keep := m.sweep(e); {
			case !keep:
				delete(sh.m, sid)
			case next != e:
				sh.m[sid] = next
			}
		}
		sh.shrink()
		sh.mu.Unlock()
	}
	if s.onSweep != nil {
		s.onSweep()
	}
}

// shrink rebuilds the shard's map once it holds a quarter of its peak or
// less, since a Go map keeps its memory after deletes: the store's memory
// follows its sessions down after a burst, not only up.
func (sh *memoryShard) shrink() {
	const minPeak = 1024
	if sh.peak < minPeak || len(sh.m) > sh.peak/4 {
		return
	}
	m := make(map[string]entry, len(sh.m))
	for sid, e := range sh.m {
		m[sid] = e
	}
	sh.m = m
	sh.peak = len(m)
}
