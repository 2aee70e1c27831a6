package hub

// Where a session stands as a node sees it: its last activity, the
// deadlines that follow from it, and its absolute end.

import (
	"time"

	"github.com/presence-dev/presence/session"
)

// knownLocked returns the latest activity this node knows of: the
// store's, as last read or written, or its own that a write has out to
// the store (startWrite) or that waits to be written (deferActivity,
// remember). The node decides and tells its tabs by it, so that activity
// its store could not take yet never turns into a warning here.
func (h *hub) knownLocked() time.Time {
	return latest(latest(h.last, h.writing), h.unsent)
}

// positionLocked is the session's position at now, had its last activity
// been known: by its idle limits and its absolute end, if it has one.
func (h *hub) positionLocked(now, known time.Time) session.Position {
	if h.endsAt == 0 {
		return h.lim.At(now.Sub(known))
	}
	return h.lim.Until(now.Sub(known), h.absoluteEndLocked().Sub(now))
}

// endOfLocked is when the session ends, had its last activity been known:
// its idle deadline, or its absolute end if that comes first.
func (h *hub) endOfLocked(known time.Time) time.Time {
	end := known.Add(h.lim.ExpireAfter)
	if abs := h.absoluteEndLocked(); !abs.IsZero() && abs.Before(end) {
		return abs
	}
	return end
}

// warnOfLocked is when the session's warning is due, had its last
// activity been known: warn_after after it, or expire_after - warn_after
// before the absolute end if that comes first.
func (h *hub) warnOfLocked(known time.Time) time.Time {
	warn := known.Add(h.lim.WarnAfter)
	if h.endsAt == 0 {
		return warn
	}
	if end := h.absoluteEndLocked().Add(h.lim.WarnAfter - h.lim.ExpireAfter); end.Before(warn) {
		return end
	}
	return warn
}

// nearWarnLocked reports whether, as far as this node knows, the session
// has been idle for about warn_after: other nodes may be showing the
// warning. A margin covers the nodes' ticks and clocks: better a spare
// nudge than a warning left on screen.
func (h *hub) nearWarnLocked(now time.Time) bool {
	return now.Sub(h.last) >= h.lim.WarnAfter-nudgeMargin
}

// absoluteEndLocked returns the session's absolute end, on this node's
// clock, or the zero time when it has none.
func (h *hub) absoluteEndLocked() time.Time {
	if h.endsAt == 0 {
		return time.Time{}
	}
	return time.Unix(0, h.endsAt)
}
