package hub

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// batchingStore is a store that answers batches, recording their sizes,
// as RedisStore answers them in one round trip.
type batchingStore struct {
	*session.MemoryStore
	mu    sync.Mutex
	sizes []int
}

func (s *batchingStore) Batch(ctx context.Context, calls []session.Call) []session.Result {
	s.mu.Lock()
	s.sizes = append(s.sizes, len(calls))
	s.mu.Unlock()
	results := make([]session.Result, len(calls))
	for i, c := range calls {
		if c.Touch {
			results[i].Snapshot, results[i].Err = s.Touch(ctx, c.SID, c.Idle, c.Terms)
		} else {
			results[i].Snapshot, results[i].Err = s.Check(ctx, c.SID, c.Terms.Limits)
		}
	}
	return results
}

func (s *batchingStore) largest() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, size := range s.sizes {
		n = max(n, size)
	}
	return n
}

// Deadlines that fall together are decided in batches, and every session
// is warned all the same.
func TestDueDeadlinesAreCheckedInBatches(t *testing.T) {
	var store *batchingStore
	e := newEnv(t, func(o *Options) {
		store = &batchingStore{MemoryStore: o.Store.(*session.MemoryStore)}
		o.Store = store
		o.Workers = 1
	})
	var tabs []*testTab
	for i := range 40 {
		tt := e.dial(t)
		tt.Hello(e.token(fmt.Sprintf("batch-%d", i)), 0)
		tabs = append(tabs, tt)
	}
	e.advance(5 * time.Second)
	for _, tt := range tabs {
		tt.Expect(protocol.TypeWarn)
	}
	if n := store.largest(); n < 2 {
		t.Errorf("40 deadlines due together were read %d at a time, want batches", n)
	}
}
