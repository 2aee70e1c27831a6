package soak

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// FaultKind is a failure the soak injects.
type FaultKind int

const (
	// KillNode kills a node with SIGKILL and starts it again after For.
	KillNode FaultKind = iota
	// RestartRedis stops Redis (SIGTERM: it writes its append-only file
	// and exits, closing every connection) and starts it again after For.
	RestartRedis
	// WebhookDown has the receiver answer 500 for For.
	WebhookDown
	// CutTabs drops the connections of a third of the tabs at once.
	CutTabs
)

func (k FaultKind) String() string {
	return [...]string{"node killed", "Redis restarted", "webhook answering 500", "tabs cut"}[k]
}

// Fault is one failure of the schedule.
type Fault struct {
	At   time.Duration // from the start of the run
	Kind FaultKind
	Node int           // KillNode's node
	For  time.Duration // how long it lasts
}

func (f Fault) String() string {
	switch f.Kind {
	case KillNode:
		return fmt.Sprintf("%6.1fs  node %d killed, started again %v later", f.At.Seconds(), f.Node+1, f.For)
	case CutTabs:
		return fmt.Sprintf("%6.1fs  a third of the tabs cut", f.At.Seconds())
	}
	return fmt.Sprintf("%6.1fs  %s for %v", f.At.Seconds(), f.Kind, f.For)
}

// Schedule spreads every kind of fault over a run of d, each at least
// twice when d allows (once in a run under 2 minutes), a kind at a time,
// with the last quarter of the run left calm.
func Schedule(d time.Duration, nodes int) []Fault {
	rounds := 1
	if d >= 2*time.Minute {
		rounds = 2
	}
	webhookDown := time.Minute
	if d < 5*time.Minute {
		webhookDown = d / 6
	}
	kinds := []FaultKind{KillNode, CutTabs, RestartRedis, WebhookDown}
	slot := d * 3 / 4 / time.Duration(rounds*len(kinds)+1)
	var faults []Fault
	for r := range rounds {
		for i, k := range kinds {
			f := Fault{At: slot * time.Duration(1+r*len(kinds)+i), Kind: k}
			switch k {
			case KillNode:
				f.Node, f.For = r%nodes, 3*time.Second
			case RestartRedis:
				f.For = 2 * time.Second
			case WebhookDown:
				f.For = webhookDown
			}
			faults = append(faults, f)
		}
	}
	return faults
}

// window is a stretch of the run in which presence may end sessions late,
// as documented: from a fault's start until it is over and the recovery
// grace after it has passed.
type window struct {
	fault    Fault
	from, to time.Time
}

// injector runs the schedule and records each fault's window.
type injector struct {
	run *run

	mu      sync.Mutex
	windows []window
	done    map[FaultKind]int
}

func (in *injector) inject(ctx context.Context, start time.Time, faults []Fault) {
	var wg sync.WaitGroup
	for _, f := range faults {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(f.At))):
			}
			in.one(ctx, f)
		})
	}
	wg.Wait()
}

func (in *injector) one(ctx context.Context, f Fault) {
	r := in.run
	from := time.Now()
	var to time.Time
	switch f.Kind {
	case KillNode:
		n := r.nodes[f.Node]
		n.kill()
		r.progress("fault: %s killed", n.name)
		sleep(ctx, f.For)
		if err := n.start(); err != nil {
			r.note("%s did not start again: %v", n.name, err)
			return
		}
		if err := n.waitReady(ctx); err != nil {
			r.note("%s is not ready again: %v", n.name, err)
		}
		// A node that dies may hold claims on due sessions for their
		// lease; the one that starts holds idle ends for its grace.
		to = latestOf(time.Now().Add(r.cfg.RecoveryGrace), from.Add(claimLease))
		from = from.Add(-time.Second)
	case RestartRedis:
		r.redis.stop(10 * time.Second)
		r.progress("fault: Redis stopped")
		sleep(ctx, f.For)
		if err := r.redis.start(); err != nil {
			r.note("Redis did not start again: %v", err)
			return
		}
		if err := r.redis.waitTCP(ctx); err != nil {
			r.note("Redis is not back: %v", err)
		}
		for _, n := range r.nodes {
			n.waitReady(ctx)
		}
		to = time.Now().Add(r.cfg.RecoveryGrace)
	case WebhookDown:
		r.receiver.down.Store(true)
		r.progress("fault: webhook receiver answering 500")
		sleep(ctx, f.For)
		r.receiver.down.Store(false)
		to = from // ends are decided on time; only their deliveries wait
	case CutTabs:
		n := r.cutTabs(3)
		r.progress("fault: %d tabs cut", n)
		to = from
	}
	in.mu.Lock()
	in.windows = append(in.windows, window{fault: f, from: from, to: to})
	in.done[f.Kind]++
	in.mu.Unlock()
}

// allowance returns the end of the latest window that holds t, or t.
func (in *injector) allowance(t time.Time) time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	until := t
	for _, w := range in.windows {
		if !t.Before(w.from) && !t.After(w.to) && w.to.After(until) {
			until = w.to
		}
	}
	return until
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
