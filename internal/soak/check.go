package soak

import (
	"context"
	"fmt"
	"time"

	"github.com/presence-dev/presence/backend"
)

// slack absorbs the rounding of idle times to milliseconds, and the
// frames on their way: a warning or an end is false if it comes before
// t + limit - slack, for an activity t presence knew of slack before.
const slack = 50 * time.Millisecond

// lateBy is how late after its deadline an end may come outside faults.
const lateBy = time.Second

// expectedEnd is when h's session should end by its script: its last
// activity plus expire_after, or its logout if that came first.
func (r *run) expectedEnd(h *history) time.Time {
	end := h.lastOf().Add(r.cfg.ExpireAfter)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.logout.IsZero() && h.logout.Before(end) {
		end = h.logout
	}
	return end
}

// drain waits, after the people stopped, until every session's end has
// been delivered to the receiver, or until the last end is due and the
// webhook's retries had time to reach it.
func (r *run) drain(ctx context.Context, workEnd time.Time) {
	deadline := workEnd.Add(r.cfg.ExpireAfter + r.cfg.RecoveryGrace + 70*time.Second)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if r.undelivered() == 0 {
			return
		}
		sleep(ctx, 250*time.Millisecond)
	}
}

func (r *run) undelivered() int {
	r.mu.Lock()
	hs := r.histories
	r.mu.Unlock()
	n := 0
	for _, h := range hs {
		if _, ok := r.receiver.first(h.script.SID); !ok {
			n++
		}
	}
	return n
}

// check holds every session's history against its script.
func (r *run) check(ctx context.Context, start, workEnd time.Time) *Report {
	r.mu.Lock()
	hs := r.histories
	rep := &Report{People: r.cfg.People, Nodes: r.cfg.Nodes, Sessions: len(hs), Tabs: r.tabsEver,
		Duration: workEnd.Sub(start), Faults: map[FaultKind]int{}, Notes: append([]string(nil), r.notes...)}
	r.mu.Unlock()
	r.faults.mu.Lock()
	for k, n := range r.faults.done {
		rep.Faults[k] = n
	}
	r.faults.mu.Unlock()
	rep.Repeated, rep.EndedTwice = r.receiver.repeated()
	rep.FailedCalls = int(r.app.failed.Load())
	rep.SlowestReport = time.Duration(r.app.slowest.Load())
	r.receiver.mu.Lock()
	rep.RefusedDeliveries = r.receiver.refused
	rep.BadDeliveries = r.receiver.bad
	r.receiver.mu.Unlock()

	for _, h := range hs {
		rep.Kinds[h.script.Kind]++
		r.checkOne(ctx, h, rep)
	}
	return rep
}

func (r *run) checkOne(ctx context.Context, h *history, rep *Report) {
	sid := h.script.SID
	h.mu.Lock()
	warns := append([]time.Time(nil), h.warns...)
	expires := append([]seen(nil), h.expires...)
	logout := h.logout
	h.mu.Unlock()
	rep.Warns += len(warns)

	// A frame is judged by the activity presence knew of slack before it
	// arrived: one decided as a hello or a frame came in was on its way
	// already.
	falsely := func(what string, at time.Time) {
		rep.FalseLogouts++
		last := h.lastAct(at.Add(-slack))
		rep.example(fmt.Sprintf("false logout: %s (%s) %s at %.3f s, %.3f s after its last activity, which presence knew of from %.3f s",
			sid, h.script.Kind, what, at.Sub(r.start).Seconds(), at.Sub(last.at).Seconds(), last.known.Sub(r.start).Seconds()))
	}
	for _, w := range warns {
		if w.Sub(h.lastKnown(w.Add(-slack))) < r.cfg.WarnAfter-slack {
			falsely("warned", w)
			return
		}
	}
	endOK := func(reason string, at time.Time) bool {
		if reason == "logout" {
			return !logout.IsZero() && !at.Before(logout.Add(-slack))
		}
		return at.Sub(h.lastKnown(at.Add(-slack))) >= r.cfg.ExpireAfter-slack
	}
	for _, e := range expires {
		if !endOK(e.reason, e.at) {
			falsely("told its tab "+e.reason, e.at)
			return
		}
	}
	d, delivered := r.receiver.first(sid)
	if delivered && !endOK(d.reason, d.at) {
		falsely("ended "+d.reason, d.at)
		return
	}

	want := r.expectedEnd(h)
	var got time.Time
	switch {
	case delivered:
		got = d.at
		rep.Ends++
	case len(expires) > 0:
		got = expires[0].at
		rep.lostEnd(fmt.Sprintf("lost end: %s (%s) told its tab %s at %.3f s, never delivered", sid, h.script.Kind, expires[0].reason, got.Sub(r.start).Seconds()))
	default:
		status := r.status(ctx, sid)
		if status == "expired" {
			rep.lostEnd(fmt.Sprintf("lost end: %s (%s) expired, due at %.3f s, never delivered", sid, h.script.Kind, want.Sub(r.start).Seconds()))
			return
		}
		rep.MissedLogouts++
		rep.example(fmt.Sprintf("missed logout: %s (%s) due %.1f s before the check, %s", sid, h.script.Kind,
			time.Since(want).Seconds(), status))
		return
	}
	late := got.Sub(want)
	allowed := r.faults.allowance(want).Add(lateBy)
	switch {
	case !got.After(want.Add(lateBy)):
		rep.MaxLate = max(rep.MaxLate, late)
	case !got.After(allowed):
		rep.LateInFault++
		rep.MaxLateInFault = max(rep.MaxLateInFault, late)
	default:
		rep.MissedLogouts++
		rep.example(fmt.Sprintf("missed logout: %s (%s) due at %.3f s, ended %.3f s after", sid, h.script.Kind, want.Sub(r.start).Seconds(), late.Seconds()))
	}
}

// status asks a node for sid's status at the end of the run.
func (r *run) status(ctx context.Context, sid string) string {
	status := "unreachable"
	r.call(ctx, func(c *backend.Client) error {
		st, err := c.Session(ctx, sid)
		if err == nil {
			status = st.Status
		}
		return err
	})
	return status
}
