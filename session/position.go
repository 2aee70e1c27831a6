package session

import "time"

// Status is where a session stands on its timeline. Every surface reports
// it from Position, so the state frame, the server API and the classic
// ping never disagree.
type Status string

const (
	// StatusActive: idle for less than WarnAfter.
	StatusActive Status = "active"
	// StatusWarning: idle for WarnAfter or more; the tabs show the
	// warning.
	StatusWarning Status = "warning"
	// StatusExpired: ended, for good, whatever the reason.
	StatusExpired Status = "expired"
	// StatusUnknown: the store holds nothing of the session.
	StatusUnknown Status = "unknown"
)

// Position is a session's place on its timeline at one instant.
type Position struct {
	Status Status
	// Idle is the time since the last activity; zero when unknown.
	Idle time.Duration
	// ExpireIn is the time left until the session ends: its idle
	// deadline, or its absolute end if that comes first (Lifetime); zero
	// once the session has ended or when it is unknown.
	ExpireIn time.Duration
	// Lifetime reports that ExpireIn counts down to the session's absolute
	// end, which activity does not move, not to its idle deadline.
	Lifetime bool
	// EndIn is the time left until the absolute end, when HasEnd.
	EndIn  time.Duration
	HasEnd bool
}

// At returns the position of a live session that has been idle for idle
// (negative counts as 0): warning from WarnAfter on, with ExpireIn counting
// down to zero at ExpireAfter.
func (l Limits) At(idle time.Duration) Position {
	idle = max(idle, 0)
	p := Position{Status: StatusActive, Idle: idle, ExpireIn: max(l.ExpireAfter-idle, 0)}
	if idle >= l.WarnAfter {
		p.Status = StatusWarning
	}
	return p
}

// Until returns the position of a live session idle for idle whose
// absolute end is endIn away (negative counts as 0): At's, but for an end
// that comes before the idle deadline, which ExpireIn then counts down to
// (Lifetime), with the warning from ExpireAfter - WarnAfter before it, as
// long before its end as the idle warning shows.
func (l Limits) Until(idle, endIn time.Duration) Position {
	p := l.At(idle)
	endIn = max(endIn, 0)
	p.EndIn, p.HasEnd = endIn, true
	if endIn < p.ExpireIn {
		p.ExpireIn, p.Lifetime = endIn, true
		if endIn <= l.ExpireAfter-l.WarnAfter {
			p.Status = StatusWarning
		}
	}
	return p
}

// Position returns where the snapshot's session stood at the snapshot's
// Now under lim, the session's limits.
func (s Snapshot) Position(lim Limits) Position {
	switch {
	case s.Ended:
		return Position{Status: StatusExpired, Idle: s.Idle()}
	case !s.Known:
		return Position{Status: StatusUnknown}
	case !s.EndsAt.IsZero():
		return lim.Until(s.Idle(), s.EndsAt.Sub(s.Now))
	}
	return lim.At(s.Idle())
}

// Or returns l, or fallback when l is zero: the one rule for limits a
// caller may not know. A session's limits come from its token, else from
// what the store keeps of it, else from the server's defaults.
func (l Limits) Or(fallback Limits) Limits {
	if l == (Limits{}) {
		return fallback
	}
	return l
}
