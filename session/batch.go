package session

import (
	"context"
	"time"
)

// Call is one call of a batch: a Touch when Touch is set, else a Check.
type Call struct {
	SID string
	// Touch makes the call a Touch of Idle with Terms; otherwise it is a
	// Check with Terms.Limits.
	Touch bool
	Idle  time.Duration
	Terms Terms
}

// Result is the answer to one Call.
type Result struct {
	Snapshot Snapshot
	Err      error
}

// Batch runs calls on store, each as its own method would, and returns
// their results in order. A store that can answer many calls in one round
// trip (a Batcher, as RedisStore is) does; any other store answers them
// one by one. Each call stands alone: one's error does not stop the
// others.
func Batch(ctx context.Context, store Store, calls []Call) []Result {
	if b, ok := store.(Batcher); ok {
		return b.Batch(ctx, calls)
	}
	results := make([]Result, len(calls))
	for i, c := range calls {
		if c.Touch {
			results[i].Snapshot, results[i].Err = store.Touch(ctx, c.SID, c.Idle, c.Terms)
		} else {
			results[i].Snapshot, results[i].Err = store.Check(ctx, c.SID, c.Terms.Limits)
		}
	}
	return results
}

// Batcher is a Store that answers a batch of calls in one round trip.
type Batcher interface {
	Store
	// Batch answers calls as Touch and Check would, in order.
	Batch(ctx context.Context, calls []Call) []Result
}
