package session

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Limits are the two idle durations of a session: the warning shows after
// WarnAfter without activity, and the session ends after ExpireAfter.
type Limits struct {
	WarnAfter   time.Duration
	ExpireAfter time.Duration
}

// maxLimit caps ExpireAfter so that deadlines, kept in int64 unix
// nanoseconds, stay far from overflow.
const maxLimit = 366 * 24 * time.Hour

// Validate reports whether 0 < WarnAfter < ExpireAfter <= 366 days.
func (l Limits) Validate() error {
	if p := l.problem(); p != "" {
		return errors.New("session: " + p)
	}
	return nil
}

// problem says what is wrong with l, or "".
func (l Limits) problem() string {
	switch {
	case l.WarnAfter <= 0:
		return fmt.Sprintf("warn after is %v; it must be positive", l.WarnAfter)
	case l.ExpireAfter <= l.WarnAfter:
		return fmt.Sprintf("expire after (%v) must be longer than warn after (%v)", l.ExpireAfter, l.WarnAfter)
	case l.ExpireAfter > maxLimit:
		return fmt.Sprintf("expire after is %v; it must be at most %v (366 days)", l.ExpireAfter, maxLimit)
	}
	return ""
}

// Reason says why a session ended. The strings are the reasons of the
// protocol's expire frame.
type Reason string

const (
	ReasonIdle    Reason = "idle"    // nobody was active for ExpireAfter
	ReasonLogout  Reason = "logout"  // the person logged out
	ReasonRevoked Reason = "revoked" // the application ended the session
	// ReasonLifetime: the session reached its absolute end (Terms.EndAt),
	// whatever the activity.
	ReasonLifetime Reason = "lifetime"
)

// Snapshot is what a store knew of one session when it answered.
type Snapshot struct {
	// Now is the store's clock when it answered: one clock for every node.
	Now time.Time
	// Known reports whether the store has recorded activity for the
	// session, that is whether Last means anything. A session that End
	// marked before any Touch is Ended but not Known.
	Known bool
	// Last is the last activity; zero when not Known.
	Last time.Time
	// Ended reports that the session is over, for good.
	Ended bool
	// EndedAt is when the session ended: for an idle end, its deadline
	// Last + ExpireAfter, which may lie before the call that noticed it.
	EndedAt time.Time
	// Reason says why the session ended; "" while it has not.
	Reason Reason
	// EndedNow reports that this call is the first to see the session
	// ended: exactly one caller ever sees true for a session. When the
	// store's background sweep ends an idle session, the next caller is
	// the one told.
	EndedNow bool
	// EndsAt is the session's absolute end (Terms.EndAt), as the store
	// keeps it; zero when it has none.
	EndsAt time.Time
	// Limits are the session's limits as the store keeps them: those of
	// the latest call that gave some. Zero when the store has none (a
	// session unknown, or ended by End before any Touch).
	Limits Limits
	// UID is the session's user as the store keeps it: that of the latest
	// Touch that gave one; empty when none did.
	UID string
}

// Idle returns how long the session had been idle at Now: Now - Last,
// never negative, and zero when not Known.
func (s Snapshot) Idle() time.Duration {
	if !s.Known {
		return 0
	}
	return max(s.Now.Sub(s.Last), 0)
}

// The rules below are the session timeline every store follows; the Redis
// store's Lua mirrors them line for line. They are pure: given one
// session's entry, the store's clock and the caller's arguments, they say
// what the store holds next and what the caller is told.

// reasonCode is a Reason in one byte; active is the zero value.
type reasonCode uint8

const (
	active reasonCode = iota
	endedIdle
	endedLogout
	endedRevoked
	endedLifetime
)

func codeOf(r Reason) (reasonCode, bool) {
	switch r {
	case ReasonIdle:
		return endedIdle, true
	case ReasonLogout:
		return endedLogout, true
	case ReasonRevoked:
		return endedRevoked, true
	case ReasonLifetime:
		return endedLifetime, true
	}
	return active, false
}

func (c reasonCode) reason() Reason {
	switch c {
	case endedIdle:
		return ReasonIdle
	case endedLogout:
		return ReasonLogout
	case endedRevoked:
		return ReasonRevoked
	case endedLifetime:
		return ReasonLifetime
	}
	return ""
}

// entry is one session as a store keeps it, in 64 bytes and its user's
// id; times are unix nanoseconds.
type entry struct {
	uid  string // the session's user, from the latest Touch that gave one
	last int64  // last activity, when flags has hasLast
	// endedAt is, once reason is not active, when the session ended;
	// while it is active, its absolute end (Terms.EndAt), 0 for none.
	// One field serves both, since a session has an end to come or an
	// end it reached, never both.
	endedAt int64
	// warn and expire are the session's limits, in nanoseconds, from the
	// latest call that gave some; a call without limits uses them.
	warn, expire int64
	// until is, while the session is active, the latest idle deadline any
	// caller computed (last + ExpireAfter), after which the sweep ends it;
	// once ended, the instant the ended mark may be dropped.
	until  int64
	reason reasonCode
	flags  uint8
}

const (
	hasLast   uint8 = 1 << iota // the session was touched: last is set
	announced                   // some caller was told EndedNow
)

// moment is what every rule runs with: the store's clock, how long the
// store keeps an ended mark after it learns of the end, and whether idle
// ends are held (Store.HoldIdleEnds).
type moment struct {
	now       int64 // unix nanoseconds
	retention int64 // nanoseconds, positive
	hold      bool  // end no session for idleness
}

// Each rule returns the entry the store holds next, whether it holds one at
// all (keep), and whether this caller is the one told the session ended.
// keep is false only for a session the store does not hold (check) or a
// mark past its retention (sweep).

// limits returns the limits a call runs with: its own, which the entry
// then keeps, or, for a call that gives none (zero Limits), the entry's.
func (m moment) limits(e entry, lim Limits) (entry, Limits) {
	if lim == (Limits{}) {
		return e, Limits{WarnAfter: time.Duration(e.warn), ExpireAfter: time.Duration(e.expire)}
	}
	e.warn, e.expire = int64(lim.WarnAfter), int64(lim.ExpireAfter)
	return e, lim
}

// touch records activity idle ago; see Store.Touch. A session the store
// does not know needs limits (the store refuses a Touch without them).
func (m moment) touch(e entry, known bool, idle time.Duration, terms Terms) (next entry, keep, endedNow bool) {
	last, lim := sub(m.now, max(int64(idle), 0)), terms.Limits
	if terms.UID != "" {
		e.uid = terms.UID
	}
	if e.reason == active && e.endedAt == 0 && !terms.EndAt.IsZero() {
		e.endedAt = terms.EndAt.UnixNano()
	}
	if !known {
		e, lim = m.limits(entry{last: last, flags: hasLast, uid: terms.UID, endedAt: e.endedAt}, lim)
		if e.endedAt != 0 && e.endedAt <= m.now {
			return m.mark(e, e.endedAt, endedLifetime), true, true
		}
		d := add(last, int64(lim.ExpireAfter))
		// Created idle past its deadline, it ends then, unless idle ends
		// are held: another tab or browser of the session, fresher, may
		// still report (a store that forgot the session, after a restart).
		if d <= m.now && !m.hold {
			return m.mark(e, d, endedIdle), true, true
		}
		e.until = d
		return e, true, false
	}
	e, lim = m.limits(e, lim)
	if e, endedNow, ended := m.settle(e, lim); ended {
		return e, true, endedNow
	}
	e.last = max(e.last, last)
	e.until = max(e.until, add(e.last, int64(lim.ExpireAfter)))
	return e, true, false
}

// check reads a session, ending it if it is past its deadline; see
// Store.Check.
func (m moment) check(e entry, known bool, lim Limits) (next entry, keep, endedNow bool) {
	if !known {
		return entry{}, false, false
	}
	e, lim = m.limits(e, lim)
	e, endedNow, ended := m.settle(e, lim)
	if !ended {
		e.until = max(e.until, add(e.last, int64(lim.ExpireAfter)))
	}
	return e, true, endedNow
}

// end ends a session for reason; see Store.End.
func (m moment) end(e entry, known bool, r reasonCode, lim Limits) (next entry, keep, endedNow bool) {
	if !known {
		e, _ = m.limits(entry{}, lim)
		return m.mark(e, m.now, r), true, true
	}
	e, lim = m.limits(e, lim)
	e, endedNow, ended := m.settle(e, lim)
	if ended {
		return e, true, endedNow
	}
	return m.mark(e, m.now, r), true, true
}

// sweep is the store's background rule: an active entry past its until
// ends idle there, leaving EndedNow to the next caller, and an ended mark
// past its until is dropped.
func (m moment) sweep(e entry) (next entry, keep bool) {
	if e.reason == active {
		switch {
		case e.endedAt != 0 && e.endedAt <= m.now && (m.hold || e.endedAt <= e.until):
			e = m.mark(e, e.endedAt, endedLifetime)
		case e.until > m.now || m.hold:
			return e, true
		default:
			e = m.mark(e, e.until, endedIdle)
		}
		e.flags &^= announced
		return e, true
	}
	return e, e.until > m.now
}

// settle applies what every call checks first. An ended session stays
// ended (the first caller to see a swept end is told EndedNow); an active
// one whose last + ExpireAfter is not after now ends at that deadline,
// idle, unless idle ends are held; one whose absolute end is not after
// now, and comes first, ends then, for its lifetime, held or not.
func (m moment) settle(e entry, lim Limits) (next entry, endedNow, ended bool) {
	if e.reason != active {
		if e.flags&announced == 0 {
			e.flags |= announced
			return e, true, true
		}
		return e, false, true
	}
	// Without limits (none given, none kept) the deadline is the latest
	// one any call computed: never earlier than some caller's.
	d := e.until
	if lim.ExpireAfter > 0 {
		d = add(e.last, int64(lim.ExpireAfter))
	}
	idleDue := d <= m.now && !m.hold
	if e.endedAt != 0 && e.endedAt <= m.now && (!idleDue || e.endedAt <= d) {
		return m.mark(e, e.endedAt, endedLifetime), true, true
	}
	if idleDue {
		return m.mark(e, d, endedIdle), true, true
	}
	return e, false, false
}

// mark ends e at endedAt for r. The mark is kept for retention after now,
// not after endedAt: a token minted just before the store learnt of an
// end that lies in the past must not start the session afresh either.
func (m moment) mark(e entry, endedAt int64, r reasonCode) entry {
	e.reason = r
	e.endedAt = endedAt
	e.until = add(m.now, m.retention)
	e.flags |= announced
	return e
}

// snapshot tells the caller about next.
func (m moment) snapshot(next entry, keep, endedNow bool) Snapshot {
	s := Snapshot{Now: unixTime(m.now), EndedNow: endedNow}
	if !keep {
		return s
	}
	s.Limits = Limits{WarnAfter: time.Duration(next.warn), ExpireAfter: time.Duration(next.expire)}
	s.UID = next.uid
	if next.reason == active && next.endedAt != 0 {
		s.EndsAt = unixTime(next.endedAt)
	}
	if next.flags&hasLast != 0 {
		s.Known = true
		s.Last = unixTime(next.last)
	}
	if next.reason != active {
		s.Ended = true
		s.EndedAt = unixTime(next.endedAt)
		s.Reason = next.reason.reason()
	}
	return s
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// add returns a+b for b >= 0, saturating at the largest int64.
func add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// sub returns a-b for b >= 0, saturating at the smallest int64.
func sub(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}
