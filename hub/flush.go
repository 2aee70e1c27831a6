package hub

import "time"

// deferActivity keeps activity at of one of the hub's tabs to be written
// with the next flush, rather than at once, when Options.FlushEvery allows
// it: this node wrote the session's activity less than an interval ago;
// the session is not warned here; and its warn deadline, by the store's
// last word, is at least two intervals away, so that no other node warns
// before the flush. It updates the hub's own view, so the tabs here go by
// the activity at once. It reports whether it kept the activity; if not,
// the caller writes it now.
//
// A busy session so costs a write when its activity starts again after a
// quiet spell, then at most one per interval; a node that dies loses at
// most the last interval of its activity.
func (h *hub) deferActivity(at time.Time) bool {
	every := h.r.opts.FlushEvery
	if every <= 0 {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ended || h.gone || h.warned || h.stored.IsZero() || h.wroteAt.IsZero() {
		return false
	}
	every = h.flushIntervalLocked()
	now := h.r.opts.Clock.Now()
	if at.After(now) {
		at = now
	}
	if now.Sub(h.wroteAt) >= every {
		return false // the first activity after a quiet spell: written at once
	}
	if !now.Add(2 * every).Before(h.stored.Add(h.lim.WarnAfter)) {
		return false // other nodes may warn soon: they must read this first
	}
	if !at.After(h.last) {
		return true // nothing newer than what this node holds
	}
	h.last = at
	if at.After(h.unsent) {
		h.unsent = at
	}
	if h.flushAt.IsZero() {
		h.flushAt = h.wroteAt.Add(every)
	}
	h.scheduleLocked(h.last.Add(h.lim.WarnAfter))
	return true
}

// flushIntervalLocked is the hub's flush interval: Options.FlushEvery,
// and never more than a tenth of warn_after.
func (h *hub) flushIntervalLocked() time.Duration {
	return min(h.r.opts.FlushEvery, h.lim.WarnAfter/10)
}

// written notes that the store recorded the hub's unsent activity up to
// at: what waits is cleared, unless newer activity came meanwhile, which
// then waits for the next flush, an interval from now.
func (h *hub) written(at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wroteAt = h.r.opts.Clock.Now()
	if h.unsent.After(at) {
		if !h.flushAt.IsZero() {
			h.flushAt = h.wroteAt.Add(h.flushIntervalLocked())
		}
		return
	}
	h.unsent, h.flushAt = time.Time{}, time.Time{}
}

// startWrite returns the later of at and the activity waiting to be
// written, for a write that goes out with the newest activity the node
// holds, and counts that activity as known while the write is out: a
// store slow to answer (its connections all busy under a burst) holds
// the tab's reading, and the frames after this one, but never makes the
// node warn from the activity it heard of before. endWrite ends that.
func (h *hub) startWrite(at time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	at = latest(at, h.unsent)
	h.writing = latest(h.writing, at)
	return at
}

// endWrite notes that the write of activity at returned: what it wrote is
// in h.last by now, or kept as unsent if the store failed.
func (h *hub) endWrite(at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.writing.After(at) {
		h.writing = time.Time{}
	}
}
