package hub

import (
	"slices"
	"sync"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// storeTimeout bounds one store call made on behalf of a tab or a
// deadline.
const storeTimeout = 5 * time.Second

// storeRetry is how soon a deadline is decided again after the store
// failed to answer. A deadline is never decided without the store: waiting
// can delay a logout, guessing could log out someone who is still there.
const storeRetry = time.Second

// keptRetry is how soon the write of activity a node kept is tried again
// when it failed while the store is coming back (watchedStore.retryIn).
const keptRetry = 100 * time.Millisecond

// hub is one session's tabs on this node and its entry in the timer wheel.
// Its fields are guarded by mu, which is never held across I/O.
type hub struct {
	r   *Registry
	sid string

	mu  sync.Mutex
	uid string
	// tabs are the session's tabs on this node: a slice, since most
	// sessions have one tab, and a set would weigh more than the tab.
	tabs   []*tab
	lim    session.Limits
	last   time.Time // the latest last activity seen, on this node's clock
	warned bool      // the tabs were told of the coming expiry
	// warnedEnd: the warning the tabs were told of is for the session's
	// absolute end (a warn of kind lifetime), which activity does not lift.
	warnedEnd bool
	// heldBack: some tab was told "active" for a warning that waits (see
	// applyLocked), perhaps with no time left, and keeps its page covered
	// until a state says the session goes on.
	heldBack bool
	ended    bool // the session is over; no tab may join
	gone     bool // removed from the registry; a joining tab needs a new hub
	queued   bool // waiting for a deadline worker
	timer    *wheelTimer
	deadline time.Time
	// armed is when the wheel entry is set to fire, in unix nanoseconds;
	// 0 once it fired or was stopped. It may lie before deadline: see
	// scheduleLocked.
	armed     int64
	endReason session.Reason
	// unsent is activity not written to the store yet: kept while the
	// store could not take it, or waiting for flushAt (see
	// Options.FlushEvery). Zero if none.
	unsent  time.Time
	flushAt time.Time // when unsent waiting for a flush goes out; zero if none
	wroteAt time.Time // when this node last wrote the session's activity
	writing time.Time // activity a tab's write has out to the store now; zero if none
	stored  time.Time // the store's last activity, by its latest answer, on this node's clock
	// endsAt is the session's absolute end, in unix nanoseconds on this
	// node's clock, by the store's answers; 0 when it has none (see
	// absoluteEndLocked).
	endsAt int64
}

func newHub(r *Registry, sid string, lim session.Limits, uid string) *hub {
	return &hub{r: r, sid: sid, lim: lim, uid: uid}
}

func (h *hub) userID() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.uid
}

// noteUser records uid as the session's user unless one is known.
func (h *hub) noteUser(uid string) {
	if uid == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.uid == "" {
		h.uid = uid
	}
}

// take brings the hub up to date with a snapshot fresh from the store, as
// apply does, reports the end if this very call ended the session, and
// nudges the other nodes when the snapshot ended the session or may lift
// a warning their tabs show. skip is as apply's.
func (h *hub) take(snap session.Snapshot, skip *tab) {
	if snap.EndedNow {
		h.r.reportEnd(h.sid, h.userID(), snap)
		h.r.publish(h.sid)
	}
	if h.apply(snap, skip) {
		h.r.nudge(h.sid)
	}
}

// admit adds t to the hub and sends it the session's state, given the
// snapshot its hello produced. ok is false if the hub has left the
// registry; the caller then asks the registry for a new one. full is
// true, and t not added, when the session holds MaxTabsPerSession tabs
// here already. lifted reports, as apply does, that the hello's activity
// may lift a warning other nodes show; the caller must then call
// Registry.nudge.
func (h *hub) admit(t *tab, snap session.Snapshot, lim session.Limits, uid string) (ok, full, lifted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gone {
		return false, false, false
	}
	if len(h.tabs) >= h.r.opts.MaxTabsPerSession {
		return true, true, false
	}
	h.tabs = append(h.tabs, t)
	h.lim = lim
	if uid != "" {
		h.uid = uid
	}
	if h.ended {
		t.expire(h.endReason)
		return true, false, false
	}
	now := h.r.opts.Clock.Now()
	lifted = h.applyLocked(now, snap, t)
	if !h.ended {
		t.send(h.stateLocked(now), protocol.TypeState)
		t.toldEnd = latest(now, h.endOfLocked(h.knownLocked())).UnixNano()
	}
	return true, false, lifted
}

// shareTabs records that t speaks for n tabs of one browser (a tabs
// frame), and answers with the session's state: the frame a tab that
// joins the shared connection needs.
func (h *hub) shareTabs(t *tab, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t.sharedTabs.Store(int32(n))
	if h.ended || h.gone {
		return
	}
	now := h.r.opts.Clock.Now()
	t.send(h.stateLocked(now), protocol.TypeState)
	t.toldEnd = latest(now, h.endOfLocked(h.knownLocked())).UnixNano()
}

// tabsLocked counts the browser tabs the hub's connections speak for.
func (h *hub) tabsLocked() int {
	n := 0
	for _, t := range h.tabs {
		n += max(int(t.sharedTabs.Load()), 1)
	}
	return n
}

// leave removes t. An ended session's hub leaves the registry with its
// last tab.
func (h *hub) leave(t *tab) {
	h.mu.Lock()
	if i := slices.Index(h.tabs, t); i >= 0 {
		last := len(h.tabs) - 1
		h.tabs[i] = h.tabs[last]
		h.tabs[last] = nil
		h.tabs = h.tabs[:last]
	}
	drop := h.ended && len(h.tabs) == 0
	h.mu.Unlock()
	if drop {
		h.r.release(h)
	}
}

// apply brings the hub up to date with a snapshot fresh from the store.
// It reports, as applyLocked does, whether the snapshot may lift a
// warning that other nodes' tabs show; the caller must then call
// Registry.nudge.
func (h *hub) apply(snap session.Snapshot, skip *tab) (lifted bool) {
	h.mu.Lock()
	lifted = h.applyLocked(h.r.opts.Clock.Now(), snap, skip)
	drop := h.ended && len(h.tabs) == 0
	h.mu.Unlock()
	if drop {
		h.r.release(h)
	}
	return lifted
}

// nudgeMargin is how close to its warning a session must be for activity
// on this node to nudge the others.
const nudgeMargin = time.Second

// applyLocked is the session's state machine: it ends the hub when the
// store says the session ended, warns every tab once the person has been
// idle for warn_after, tells every tab when activity lifts a warning, and
// keeps the wheel entry at the next deadline. skip is a tab that gets the
// full state right after, as of the same now, and needs no broadcast.
//
// It reports whether the snapshot may lift a warning that other nodes'
// tabs show: it brought activity newer than this node knew of, when the
// session had been idle for about warn_after as far as this node knew,
// and the session is active now. A snapshot with nothing new lifts
// nothing, so that nodes re-reading a session near its warning never
// nudge one another back and forth.
func (h *hub) applyLocked(now time.Time, snap session.Snapshot, skip *tab) (lifted bool) {
	if h.ended || h.gone {
		return false
	}
	if snap.Ended {
		h.endLocked(snap.Reason)
		return false
	}
	nearWarn := h.nearWarnLocked(now)
	// The store's clock may not be this node's: carry over the idle time,
	// not the instant.
	newer := false
	last := now.Add(-snap.Idle())
	if snap.Known {
		h.stored = last
	}
	if last.After(h.last) {
		h.last, newer = last, true
	}
	if !snap.EndsAt.IsZero() {
		// The store's clock may not be this node's: carry over the time
		// left.
		if end := now.Add(snap.EndsAt.Sub(snap.Now)).UnixNano(); h.endsAt == 0 || end < h.endsAt {
			h.endsAt = end
		}
	}
	// The next deadline is set before the tabs hear of this one: a tab
	// may act on a frame before the lock is released.
	known := h.knownLocked()
	if pos := h.positionLocked(now, known); pos.Status == session.StatusWarning {
		if until, missed := h.r.store.missed(h.warnOfLocked(known)); missed && !h.warned && !pos.Lifetime {
			// The warning fell due while nobody could report: the
			// tabs reconnecting and the applications' queued reports
			// may dismiss it, so it waits for them as the end does,
			// rather than flash in front of a person at work.
			h.scheduleLocked(until)
			return false
		}
		// While idle ends are held, the store ends nothing for
		// idleness before the hold does: deciding sooner would only
		// read it again. The absolute end is not held.
		end := latest(known.Add(h.lim.ExpireAfter), h.r.store.held())
		if abs := h.absoluteEndLocked(); !abs.IsZero() && abs.Before(end) {
			end = abs
		}
		h.scheduleLocked(end)
		if !h.warned || pos.Lifetime && !h.warnedEnd {
			if !h.warned {
				h.r.metrics.warnings.Inc()
			}
			h.warned, h.warnedEnd = true, pos.Lifetime
			kind := protocol.WarnIdle
			if pos.Lifetime {
				kind = protocol.WarnLifetime
			}
			h.broadcast(protocol.Warn{ExpireInMS: pos.ExpireIn.Milliseconds(), Kind: kind}.AppendJSON(nil), protocol.TypeWarn, skip)
			for _, t := range h.tabs {
				t.toldEnd = now.Add(pos.ExpireIn).UnixNano()
			}
		}
		return false
	}
	h.scheduleLocked(h.warnOfLocked(known))
	all := h.warned || h.heldBack
	h.warned, h.warnedEnd, h.heldBack = false, false, false
	h.tellLocked(now, skip, all)
	if !nearWarn || !newer {
		return false
	}
	// Counted before any tab can see this change, published by the caller
	// once the lock is released (Registry.nudge).
	h.r.unpublished.Add(1)
	return true
}

// tellLocked sends the session's state to the tabs but skip, all of
// them or only the stale ones (see staleLocked), and notes the end they
// are told of.
func (h *hub) tellLocked(now time.Time, skip *tab, all bool) {
	var frame []byte
	end := h.endOfLocked(h.knownLocked()).UnixNano()
	for _, t := range h.tabs {
		if t == skip || (!all && !h.staleLocked(t, now, end)) {
			continue
		}
		if frame == nil {
			frame = h.stateLocked(now)
		}
		t.send(frame, protocol.TypeState)
		t.toldEnd = end
	}
}

// staleLocked reports whether t must hear that the session goes on, end
// being the session's end in unix nanoseconds: it was told of an end that
// activity elsewhere (a tab in another browser, on another node, the
// application's requests) has moved since, and that end's warning point
// has passed. A page keeps a clock of its own too, and covers itself when
// the end it knows of passes; the end it knows of is the later of the one
// it was told and its own activity's.
func (h *hub) staleLocked(t *tab, now time.Time, end int64) bool {
	known := max(t.toldEnd, t.ownActive.Load()+int64(h.lim.ExpireAfter))
	return known < end && now.UnixNano() >= known-int64(h.lim.ExpireAfter-h.lim.WarnAfter)
}

// stateLocked encodes the session's state frame as of now, for a tab
// about to be sent it. Its status is the session's Position, the rule the
// server API follows too; it agrees with what the tabs were told, since
// applyLocked warns by the same rule, but for a warning it holds back, and
// every state is sent as of the now applyLocked last ran with.
func (h *hub) stateLocked(now time.Time) []byte {
	pos := h.positionLocked(now, h.knownLocked())
	if pos.Status == session.StatusWarning && !h.warned {
		pos.Status = session.StatusActive // a warning that waits (see applyLocked)
		h.heldBack = true
	}
	return protocol.State{
		Status:        protocol.Status(pos.Status),
		IdleMS:        pos.Idle.Milliseconds(),
		WarnAfterMS:   h.lim.WarnAfter.Milliseconds(),
		ExpireAfterMS: h.lim.ExpireAfter.Milliseconds(),
		ExpireInMS:    pos.ExpireIn.Milliseconds(),
		EndInMS:       pos.EndIn.Milliseconds(),
		HasEnd:        pos.HasEnd,
	}.AppendJSON(nil)
}

func (h *hub) broadcast(frame []byte, typ protocol.Type, skip *tab) {
	for _, t := range h.tabs {
		if t != skip {
			t.send(frame, typ)
		}
	}
}

// endLocked pushes expire to every tab, each followed by close 4410.
func (h *hub) endLocked(reason session.Reason) {
	h.ended = true
	h.endReason = reason
	h.r.ends.add(h.sid, reason, h.r.opts.Clock.Now())
	if h.timer != nil {
		h.timer.stop()
		h.armed = 0
	}
	h.r.metrics.expiries.WithLabelValues(string(reason)).Inc()
	for _, t := range h.tabs {
		t.expire(reason)
	}
}

// scheduleLocked sets the hub's deadline to at, or to the flush of its
// waiting activity if that comes first. A deadline later than the one
// the wheel entry is set for leaves the entry alone: when it fires,
// onDeadline sets it to the deadline then. Activity, which moves the
// deadline later at every frame, so costs no call of the wheel, whose
// lock every tab of the node shares.
func (h *hub) scheduleLocked(at time.Time) {
	if !h.flushAt.IsZero() && h.flushAt.Before(at) {
		at = h.flushAt
	}
	h.deadline = at
	n := at.UnixNano()
	switch {
	case h.timer == nil:
		h.timer = h.r.wheel.at(at, h.onDeadline)
	case h.armed != 0 && h.armed <= n:
		return
	default:
		h.timer.reset(at)
	}
	h.armed = n
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
