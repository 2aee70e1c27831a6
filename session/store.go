package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrClosed is returned by a Store's methods after Close.
var ErrClosed = errors.New("session: store closed")

// Store keeps every session's last activity and ended mark: the one
// timeline all tabs and nodes share. All methods are safe for concurrent
// use. The store's own clock decides Now, and callers pass idle durations
// rather than instants, so that one clock rules every node.
//
// Every method checks expiry first, with the caller's limits: a session
// whose Last + lim.ExpireAfter is not after Now ends then, idle, with
// EndedAt at that deadline. The store keeps the limits of the latest call
// that gave some (Snapshot.Limits); a call with zero Limits, which Check
// and End accept, uses those, so a caller that does not know the
// session's limits (the API on a node that never saw its token) can never
// end it early. An ended session is never revived. Methods refuse other
// limits that fail Limits.Validate, and return ctx.Err() once ctx is
// done.
type Store interface {
	// Touch records that the person was last active idle ago (idle < 0
	// counts as 0). An ended session stays ended; one past its deadline
	// ends now, idle. Otherwise Last = max(Last, Now-idle): it never moves
	// backwards. An unknown session is created with Last = Now-idle; if
	// that is already ExpireAfter ago or more, it is created ended (idle,
	// EndedNow). Touch needs terms.Limits; a terms.UID, when given,
	// becomes the session's user.
	Touch(ctx context.Context, sid string, idle time.Duration, terms Terms) (Snapshot, error)

	// Check reads a session, ending it (idle, EndedNow) if it is past its
	// deadline. An unknown session is returned with Known false and is not
	// created.
	Check(ctx context.Context, sid string, lim Limits) (Snapshot, error)

	// End ends a session now with reason unless it has already ended
	// (then it is returned as it is, EndedNow false). A session already
	// past its deadline ends idle at its deadline instead. An unknown
	// session gets an ended mark too, so no token can start it later.
	End(ctx context.Context, sid string, reason Reason, lim Limits) (Snapshot, error)

	// HoldIdleEnds makes the calls through this Store value, until until
	// on the caller's clock, end no session for idleness, though it be
	// past its deadline: such a session answers active, its Last as old as
	// it is. Explicit ends and ends already recorded stand. A node holds
	// idle ends for a while after it starts and after its store answers
	// again, since the activity that could not reach presence meanwhile
	// (tabs reconnecting, applications' queues) may still come and move
	// the last activity: a deadline that passed while nobody could report
	// is not a verdict. A Touch that creates a session already idle for
	// ExpireAfter creates it active too, its Last as reported. A zero
	// until holds nothing.
	HoldIdleEnds(until time.Time)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error

	// Close releases the store. It is idempotent; other methods return
	// ErrClosed afterwards.
	Close() error
}

// Terms are what a Touch tells the store of a session besides its
// activity: the limits it runs on and its user.
type Terms struct {
	Limits
	// UID is the session's user, for the end's webhook; empty keeps the
	// user the store knows.
	UID string
	// EndAt is the session's absolute end (Claims.EndAt); zero gives
	// none. The store keeps the first a session is given: a later one,
	// earlier or later, changes nothing.
	EndAt time.Time
}

// Claimer is a Store that keeps every active session's idle deadline
// where any node can find it, so that a session no node holds a tab for
// still ends on time, whichever nodes are alive. RedisStore is one.
type Claimer interface {
	// ClaimDue returns up to n sessions whose idle deadline has passed,
	// each claimed for lease: nobody else gets it back before the lease
	// ends, unless a call on the session puts its deadline right first.
	// The caller decides each with Check; a caller that dies before it
	// does leaves the session to whoever claims it when the lease ends.
	ClaimDue(ctx context.Context, n int, lease time.Duration) ([]string, error)
}

// EndConfirmer is a Store whose ends outlive the node told of them. A
// call told Snapshot.EndedNow must confirm, within ConfirmWithin, that it
// handed the end on (to the webhook's queue); until it does, the store
// keeps the end where ClaimDue finds it, and tells a later call EndedNow
// again once ConfirmWithin has passed. A node killed, or a reply lost,
// between the store's end and the webhook's queue then loses no end; the
// price is that an end may be reported twice, which the webhook's
// Idempotency-Key lets the receiver drop. RedisStore is one.
type EndConfirmer interface {
	// ConfirmEnd records that the end of sid, announced to this node, was
	// handed on. Confirming a session that is not ended does nothing.
	ConfirmEnd(ctx context.Context, sid string) error
}

// ConfirmWithin is how long a node told of an end has to confirm it
// (EndConfirmer) before the end is announced again.
const ConfirmWithin = 5 * time.Second

// checkUID refuses a user id past maxUIDLen bytes, the tokens' limit.
func checkUID(uid string) error {
	if len(uid) > maxUIDLen {
		return &ClaimsError{Field: "uid", Problem: fmt.Sprintf("is %d bytes; it must be at most %d", len(uid), maxUIDLen)}
	}
	return nil
}

// checkCall refuses, the same way in every store, a call that cannot be
// served: on a closed store, with a done ctx, an empty session id, or
// invalid limits; zero limits (the session's own) are valid where
// optional says so.
func checkCall(ctx context.Context, closed bool, sid string, lim Limits, optional bool) error {
	if closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if sid == "" {
		return errors.New("session: empty session id")
	}
	if optional && lim == (Limits{}) {
		return nil
	}
	return lim.Validate()
}
