package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/session"
)

// defaultRecoveryGrace is how long a node holds idle ends after it starts
// and after its store answers again (Options.RecoveryGrace): long enough
// for the tabs that lost presence to reconnect and say how long their
// person has been idle (the client retries at least every 5 s), and for
// the applications' queued reports to arrive (their helpers retry at least
// every 2 s). A deadline that passed while nobody could report is not a
// verdict: the sessions nobody reports for end when the grace does.
const defaultRecoveryGrace = 8 * time.Second

// forever stands for "until the store answers again".
const forever = 100 * 365 * 24 * time.Hour

// watchedStore is the node's store, watched for outages: while its calls
// fail it holds idle ends, and once one succeeds again it holds them for
// the grace more. Every store call of the hub goes through it.
//
// It logs an outage once when it starts and once when it ends, with the
// calls that failed meanwhile, rather than a line per call: a readiness
// probe of a node whose Redis is down must not flood the log.
type watchedStore struct {
	session.Store
	clock     clock.Clock
	grace     time.Duration
	log       *zap.Logger
	down      atomic.Bool
	heldUntil atomic.Int64 // unix nanoseconds on clock; what the store was told
	heldFrom  atomic.Int64 // unix nanoseconds on clock: when the node started, or its store failed or answered again
	// back, when set, runs on a goroutine of its own each time the store
	// answers again after an outage.
	back func()

	backAt atomic.Int64 // unix nanoseconds on clock: when the store last answered again after failing

	mu        sync.Mutex
	downSince time.Time
	failed    int // calls that failed in this outage
}

func newWatchedStore(s session.Store, clk clock.Clock, grace time.Duration, log *zap.Logger) *watchedStore {
	w := &watchedStore{Store: s, clock: clk, grace: grace, log: log}
	w.hold(clk.Now().Add(grace)) // the node starts: reports may be on their way
	return w
}

func (w *watchedStore) hold(until time.Time) {
	w.heldFrom.Store(w.clock.Now().UnixNano())
	w.heldUntil.Store(until.UnixNano())
	w.Store.HoldIdleEnds(until)
}

// held returns until when idle ends are held, or the zero time when they
// are not held now.
func (w *watchedStore) held() time.Time {
	until := time.Unix(0, w.heldUntil.Load())
	if !w.clock.Now().Before(until) {
		return time.Time{}
	}
	return until
}

// missed reports whether a warning due at should wait, and until when:
// while idle ends are held after the node started, or after its store
// answered again, a warning due before the middle of the hold waits for
// it. The deadline passed, or comes, while the reports that could move it
// (tabs reconnecting, activity other nodes kept while the store was
// down, applications' queues) may still be on their way; and the person
// still sees the warning for the other half of the hold before the end.
func (w *watchedStore) missed(at time.Time) (until time.Time, ok bool) {
	end := w.held()
	if end.IsZero() {
		return time.Time{}, false
	}
	from := time.Unix(0, w.heldFrom.Load())
	until = from.Add(end.Sub(from) / 2)
	if !at.Before(until) || !w.clock.Now().Before(until) {
		return time.Time{}, false
	}
	return until, true
}

// retryIn returns how soon a call that failed is tried again: storeRetry
// in an outage, but keptRetry for the write of activity a node kept
// (kept) while the store is coming back: for a moment after a restart a
// Redis answers some calls and fails others, and the other nodes warn
// from the store once the middle of their grace has passed, so the kept
// activity must be there by then. A store that answered again less than
// a grace ago counts as coming back.
func (w *watchedStore) retryIn(kept bool) time.Duration {
	back := w.backAt.Load()
	if kept && back != 0 && w.clock.Now().Sub(time.Unix(0, back)) < max(w.grace, storeRetry) {
		return keptRetry
	}
	return storeRetry
}

// note records the outcome of a store call. A call the registry cancelled
// says nothing of the store.
func (w *watchedStore) note(err error) {
	switch {
	case err == nil:
		if !w.down.Load() {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.down.Swap(false) {
			return
		}
		now := w.clock.Now()
		w.backAt.Store(now.UnixNano())
		w.hold(now.Add(w.grace))
		w.log.Warn("the store answers again; no session ends for idleness during the recovery grace",
			zap.Duration("outage", now.Sub(w.downSince)), zap.Int("failed_calls", w.failed), zap.Duration("grace", w.grace))
		if w.back != nil {
			go w.back()
		}
	case errors.Is(err, context.Canceled):
	default:
		w.mu.Lock()
		defer w.mu.Unlock()
		w.failed++
		if w.down.Swap(true) {
			return
		}
		now := w.clock.Now()
		w.downSince, w.failed = now, 1
		if w.grace > 0 {
			w.hold(now.Add(forever))
		}
		w.log.Warn("presence cannot reach its store; deadlines wait for it and activity is kept meanwhile", zap.Error(err))
	}
}

func (w *watchedStore) Touch(ctx context.Context, sid string, idle time.Duration, terms session.Terms) (session.Snapshot, error) {
	snap, err := w.Store.Touch(ctx, sid, idle, terms)
	w.note(err)
	return snap, err
}

func (w *watchedStore) Check(ctx context.Context, sid string, lim session.Limits) (session.Snapshot, error) {
	snap, err := w.Store.Check(ctx, sid, lim)
	w.note(err)
	return snap, err
}

func (w *watchedStore) End(ctx context.Context, sid string, reason session.Reason, lim session.Limits) (session.Snapshot, error) {
	snap, err := w.Store.End(ctx, sid, reason, lim)
	w.note(err)
	return snap, err
}

func (w *watchedStore) Ping(ctx context.Context) error {
	err := w.Store.Ping(ctx)
	w.note(err)
	return err
}

// Batch runs calls through session.Batch, noting each call's outcome.
func (w *watchedStore) Batch(ctx context.Context, calls []session.Call) []session.Result {
	results := session.Batch(ctx, w.Store, calls)
	for _, r := range results {
		w.note(r.Err)
	}
	return results
}
