package hub

import (
	"context"
	"time"
)

// probeEvery is how often a node whose store failed asks it whether it
// answers again. The node's own calls would find out too, but only as
// often as its tabs and deadlines make them: a deadline retried every
// storeRetry, an idle node never. Once the store answers, the activity
// the node kept is written at once (Registry.writeKept), and the other
// nodes read it from the store before the middle of their recovery
// grace, when they warn from the store again.
const probeEvery = 250 * time.Millisecond

// startProber pings the store on turns of their own, every probeEvery
// while the node counts it down.
func startProber(r *Registry) *turns {
	return startTurns(r,
		func() time.Time { return r.opts.Clock.Now().Add(probeEvery) },
		r.store.down.Load,
		func() {
			ctx, cancel := context.WithTimeout(r.ctx, storeTimeout)
			defer cancel()
			r.store.Ping(ctx) // its outcome is noted; a failure is the outage already known
		})
}
