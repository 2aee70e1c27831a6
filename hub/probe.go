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

// prober pings the store, while the node counts it down, from a
// goroutine of its own on a timer of the node's wheel: a ping waits on
// the network and the wheel's goroutine must not.
type prober struct {
	r     *Registry
	timer *wheelTimer
	kick  chan struct{} // holds one pending ping
	done  chan struct{} // closed when run returns
}

func newProber(r *Registry) *prober {
	p := &prober{r: r, kick: make(chan struct{}, 1), done: make(chan struct{})}
	// onTimer reads p.timer: it is set far off first, then moved under
	// the wheel's lock, so that the callback finds it assigned (see
	// wheel.at).
	p.timer = r.wheel.at(r.opts.Clock.Now().Add(time.Hour), p.onTimer)
	p.timer.reset(r.opts.Clock.Now().Add(probeEvery))
	go p.run()
	return p
}

// onTimer runs on the wheel's goroutine.
func (p *prober) onTimer() {
	if p.r.store.down.Load() {
		select {
		case p.kick <- struct{}{}:
		default: // a ping is under way
		}
	}
	p.timer.reset(p.r.opts.Clock.Now().Add(probeEvery))
}

func (p *prober) run() {
	defer close(p.done)
	for {
		select {
		case <-p.r.ctx.Done():
			return
		case <-p.kick:
			ctx, cancel := context.WithTimeout(p.r.ctx, storeTimeout)
			p.r.store.Ping(ctx) // its outcome is noted; a failure is the outage already known
			cancel()
		}
	}
}

// close stops the pings and waits for the one under way; the registry's
// ctx, cancelled first, cuts it short.
func (p *prober) close() {
	p.timer.stop()
	<-p.done
}
