package hub

// A hub's deadline, when it fires, is decided on a fresh read of the
// store, with the activity the node kept written first.

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/session"
)

// onDeadline runs on the wheel's goroutine, which must not block: it
// hands the hub to a deadline worker, or, when the deadline moved more
// than a tick later since the entry was set (scheduleLocked), sets the
// entry to it. A deadline less than a tick away is checked now: the
// check decides by the time it runs, and sets the deadline again.
func (h *hub) onDeadline() {
	h.mu.Lock()
	h.armed = 0
	now := h.r.opts.Clock.Now()
	if h.deadline.Sub(now) > h.r.wheel.tick && !h.ended && !h.gone {
		h.timer.reset(h.deadline)
		h.armed = h.deadline.UnixNano()
		h.mu.Unlock()
		return
	}
	late := now.Sub(h.deadline)
	h.mu.Unlock()
	if h.queueCheck() {
		h.r.metrics.lateness.Observe(max(late, 0).Seconds())
	}
}

// queueCheck hands the hub to a deadline worker, which re-reads the store,
// unless it is waiting for one already. It never blocks.
func (h *hub) queueCheck() bool {
	h.mu.Lock()
	if h.queued || h.ended || h.gone {
		h.mu.Unlock()
		return false
	}
	h.queued = true
	h.mu.Unlock()
	h.r.due.push(h)
	return true
}

// remember keeps activity that the store could not record, to be sent
// again before the next decision, so that an outage of the store never
// turns into a false logout.
func (h *hub) remember(at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if at.After(h.unsent) {
		h.unsent = at
	}
	if !h.ended && !h.gone {
		h.scheduleLocked(h.r.opts.Clock.Now().Add(h.r.store.retryIn(true)))
	}
}

// checkDue decides the fired deadlines of hubs on a fresh read of the
// store, in one round trip: a Touch of the activity a hub keeps unsent,
// else a Check.
func (r *Registry) checkDue(hubs []*hub) {
	plans := make([]duePlan, 0, len(hubs))
	calls := make([]session.Call, 0, len(hubs))
	for _, h := range hubs {
		if p, ok := h.planCheck(); ok {
			plans = append(plans, p)
			calls = append(calls, p.call)
		}
	}
	if len(calls) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, storeTimeout)
	defer cancel()
	results := r.store.Batch(ctx, calls)
	for i, p := range plans {
		p.h.finishCheck(ctx, p, results[i])
	}
}

// duePlan is what a hub's deadline check asks of the store, and what the
// hub knew when it asked.
type duePlan struct {
	h      *hub
	call   session.Call
	unsent time.Time // the activity the call writes; zero for a Check
	idle   time.Duration
	uid    string
	endsAt time.Time // the absolute end the hub knows of, to give back to a store that lost it
}

// planCheck takes the hub off the due queue and says what to ask the
// store; ok is false when there is nothing to decide.
func (h *hub) planCheck() (p duePlan, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queued = false
	if h.ended || h.gone {
		return duePlan{}, false
	}
	now := h.r.opts.Clock.Now()
	p = duePlan{h: h, unsent: h.unsent, idle: now.Sub(h.knownLocked()), uid: h.uid, endsAt: h.absoluteEndLocked()}
	p.call = session.Call{SID: h.sid, Terms: session.Terms{Limits: h.lim}}
	if !h.unsent.IsZero() {
		p.call.Touch, p.call.Idle = true, max(now.Sub(h.unsent), 0)
	}
	return p, true
}

// finishCheck acts on the store's answer to a deadline check.
func (h *hub) finishCheck(ctx context.Context, p duePlan, res session.Result) {
	snap, err := res.Snapshot, res.Err
	if err == nil && p.call.Touch {
		h.written(p.unsent)
	}
	if err == nil && !snap.Known && !snap.Ended {
		// The store lost the session (a restarted store that keeps
		// nothing). Give it back what this node saw, so the session
		// neither expires early nor lives forever, and decide nothing
		// until the other nodes, nudged, have given back theirs: this
		// node's view may be older than theirs.
		if _, err = h.r.store.Touch(ctx, h.sid, p.idle, session.Terms{Limits: p.call.Terms.Limits, UID: p.uid, EndAt: p.endsAt}); err == nil {
			h.r.log.Debug("store had forgotten a session; restored it", zap.String("sid", h.sid), zap.Duration("idle", p.idle))
			h.r.publish(h.sid)
			h.mu.Lock()
			if !h.ended && !h.gone {
				h.scheduleLocked(h.r.opts.Clock.Now().Add(storeRetry))
			}
			h.mu.Unlock()
			return
		}
	}
	if err != nil {
		if h.r.ctx.Err() != nil {
			return // the registry is closing
		}
		retry := h.r.store.retryIn(p.call.Touch)
		h.r.log.Debug("store unavailable; deadline postponed", zap.Error(err), zap.Duration("retry_in", retry))
		h.mu.Lock()
		if !h.ended && !h.gone {
			h.scheduleLocked(h.r.opts.Clock.Now().Add(retry))
		}
		h.mu.Unlock()
		return
	}
	h.take(snap, nil)
}
