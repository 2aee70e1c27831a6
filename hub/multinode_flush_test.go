package hub

import (
	"context"
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// losingFlushes is a node's store whose batches lose every write: each
// Touch of a batch is answered as a Check, as if the flush had gone out.
type losingFlushes struct {
	*session.RedisStore
}

func (s losingFlushes) Batch(ctx context.Context, calls []session.Call) []session.Result {
	reads := make([]session.Call, len(calls))
	for i, c := range calls {
		reads[i] = session.Call{SID: c.SID, Terms: session.Terms{Limits: c.Terms.Limits}}
	}
	return s.RedisStore.Batch(ctx, reads)
}

// A person at work on one node is never warned nor logged out by another,
// even when every flush of the first node is lost: activity close to the
// warning the store knows of is written at once.
func TestLostFlushesEndNoActiveSession(t *testing.T) {
	client := requireRedis(t, testRedisAddr())
	c := newCluster(t, client, 1)
	c.wrap = func(s *session.RedisStore) session.Store { return losingFlushes{s} }
	c.nodes = append(c.nodes, c.start(""))
	c.rejoin()

	tok := multiToken(t, "held-back")
	watcher, worker := c.dial(0), c.dial(1)
	watcher.Hello(tok, 0)
	worker.Hello(tok, 0)
	for range 40 { // 10 s of work, two and a half times expire_after
		c.advance(250 * time.Millisecond)
		worker.Activity(0)
		if (c.clock.Now().UnixMilli()/250)%4 == 0 {
			worker.Sync()
		}
	}
	// Every frame read before the clock moves on: a frame read later would
	// count as activity then.
	worker.Sync()
	c.advance(100 * time.Millisecond)
	for _, tt := range []*testTab{watcher, worker} {
		for _, f := range tt.Received() {
			if f.Type == protocol.TypeWarn || f.Type == protocol.TypeExpire {
				t.Fatalf("a person at work got %s", f.Type)
			}
		}
	}
	// Once the person stops, the session ends on time everywhere. The
	// watcher may still hear, first, that the session went on.
	c.advance(2 * time.Second)
	expectPastStates(t, watcher, protocol.TypeWarn)
	c.advance(2 * time.Second)
	watcher.Expect(protocol.TypeExpire)
}

// expectPastStates expects a frame of type typ on tt, after any number of
// active states: an idle tab hears that the session goes on while
// another tab is at work.
func expectPastStates(t *testing.T, tt *testTab, typ protocol.Type) protocol.ServerFrame {
	t.Helper()
	for {
		f, ok := tt.Next()
		if !ok {
			t.Fatalf("connection closed while waiting for %q", typ)
		}
		if f.Type == protocol.TypeState && f.Status == protocol.StatusActive {
			continue
		}
		if f.Type != typ {
			t.Fatalf("got frame %+v, want type %q", f, typ)
		}
		return f
	}
}
