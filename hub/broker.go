package hub

import "context"

// Broker carries nudges between the presence nodes that share a store: a
// nudge names a session that changed on one node (activity that lifts a
// warning, or an end), so that every node holding tabs of it re-reads the
// store and tells its own tabs. A nudge carries no state; the store stays
// the only truth, so a lost nudge delays a push but never makes a wrong
// one.
type Broker interface {
	// Publish sends a nudge for sid to the other nodes. It returns once
	// the nudge is handed over, or with ctx's error.
	Publish(ctx context.Context, sid string) error
	// Run delivers the other nodes' nudges to nudge, one at a time, until
	// ctx ends. After it had to reconnect, it calls resync, since nudges
	// may have been lost meanwhile.
	Run(ctx context.Context, nudge func(sid string), resync func()) error
}
