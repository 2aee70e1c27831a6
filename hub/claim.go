package hub

import (
	"context"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/session"
)

// A node whose store is a session.Claimer asks it for due sessions about
// every claimEvery, so that a session no node holds a tab for, or whose
// node died, still ends within about a second of its deadline, once. A
// claim lasts claimLease: a node that dies holding one delays that
// session's end by at most that long.
const (
	claimEvery = 500 * time.Millisecond
	claimLease = 5 * time.Second
	claimBatch = 1000
)

// claimer asks a Claimer store for due sessions, on its turns.
type claimer struct {
	r     *Registry
	store session.Claimer
	*turns
}

func newClaimer(r *Registry, store session.Claimer) *claimer {
	c := &claimer{r: r, store: store}
	c.turns = startTurns(r, c.next, nil, c.claim)
	return c
}

// next is the next claim, jittered by up to a tenth either way so that
// nodes started together do not ask together.
func (c *claimer) next() time.Time {
	jitter := time.Duration(rand.Int64N(int64(claimEvery)/5+1)) - claimEvery/10
	return c.r.opts.Clock.Now().Add(claimEvery + jitter)
}

// claim decides the sessions the store says are due: a session with a
// hub here goes to the deadline workers, as when its own deadline fires;
// one without is checked here, and its end reported, with no hub made for
// it, since the store keeps its next deadline.
func (c *claimer) claim() {
	r := c.r
	if !r.store.held().IsZero() {
		return // nothing ends for idleness now; see recoveryGrace
	}
	ctx, cancel := context.WithTimeout(r.ctx, storeTimeout)
	defer cancel()
	sids, err := c.store.ClaimDue(ctx, claimBatch, claimLease)
	r.store.note(err)
	if err != nil {
		r.storeFailed("due sessions not claimed", err)
	}
	var calls []session.Call
	for _, sid := range sids {
		if h := r.lookup(sid); h != nil {
			h.queueCheck()
			continue
		}
		calls = append(calls, session.Call{SID: sid})
	}
	if len(calls) == 0 {
		return
	}
	for i, res := range r.store.Batch(ctx, calls) {
		sid := calls[i].SID
		if res.Err != nil {
			// The claim's lease ends and some node claims it again.
			r.storeFailed("due session not checked", res.Err)
			continue
		}
		if res.Snapshot.EndedNow {
			r.log.Debug("session ended with no tab on this node", zap.String("sid", sid))
			r.reportEnd(sid, "", res.Snapshot)
			r.publish(sid)
		}
	}
}
