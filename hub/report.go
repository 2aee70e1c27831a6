package hub

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// Report is what a page or the application reports of a session outside
// a WebSocket: a classic ping, or activity the application's server saw.
type Report struct {
	SID string
	// UID is the session's user, when the caller knows it; it goes into
	// the end's webhook.
	UID string
	// Limits are the session's, from its token or from the application.
	// Zero means the session's own: as this node or the store keeps them,
	// or the server's defaults for a session the store does not know.
	Limits session.Limits
	// Idle is how long ago the person was last active, counted from the
	// call: the time the call then waits on the store is not activity.
	Idle time.Duration
	// Passive makes the report a read: it moves no activity, but a
	// session the store does not know starts with its last activity Idle
	// ago.
	Passive bool
	// EndAt is the session's absolute end, from the application; zero
	// means none. The store keeps the first it learns of.
	EndAt time.Time
}

// Session is one session as a node sees it right after a call.
type Session struct {
	SID string
	session.Position
	// Limits are the session's limits the Position was measured with.
	Limits session.Limits
	// Reason says why the session ended, once it has.
	Reason session.Reason
	// EndsAt is the live session's absolute end, on the store's clock;
	// zero when it has none.
	EndsAt time.Time
	// Tabs counts the session's browser tabs connected to this node:
	// one per connection, or as many as a connection that tabs share
	// speaks for.
	Tabs int
	// Sockets counts the session's connections to this node.
	Sockets int
}

// Report records rep in the store and brings every tab of its session,
// on this node and, through nudges, on the others, up to date; a live
// session is watched by this node from then on, so that its warn and
// expire deadlines are decided even with no tab open. An ended session
// stays ended. The error is the store's, when it could not answer: then
// nothing was recorded and the caller should answer "try again".
func (r *Registry) Report(ctx context.Context, rep Report) (Session, error) {
	ctx, cancel := r.callContext(ctx)
	defer cancel()
	return r.report(ctx, rep, r.opts.Clock.Now().Add(-rep.Idle))
}

// report is Report with the person's last activity at active, an instant
// of the node's clock.
func (r *Registry) report(ctx context.Context, rep Report, active time.Time) (Session, error) {
	lim, uid := rep.Limits, rep.UID
	if lim == (session.Limits{}) {
		lim, uid = r.known(rep.SID, uid)
	}
	if lim == (session.Limits{}) {
		// The store needs limits to start a session: the session's own if
		// it keeps them, else the server's defaults.
		snap, err := r.store.Check(ctx, rep.SID, lim)
		if err != nil {
			return Session{}, r.callFailed(err)
		}
		if rep.Passive {
			if snap.Known || snap.Ended {
				return r.answer(rep.SID, lim, uid, snap), nil
			}
			rep.Passive = false // read already: start it, Idle ago
		}
		lim = snap.Limits.Or(r.opts.Verifier.Defaults())
	}
	snap, err := r.join(ctx, rep.SID, r.idleSince(active), session.Terms{Limits: lim, UID: rep.UID, EndAt: r.endAt(rep.EndAt)}, rep.Passive)
	if err != nil {
		return Session{}, r.callFailed(err)
	}
	return r.answer(rep.SID, lim, uid, snap), nil
}

// ReportAll records many reports as Report does, answered in order. The
// reports whose session's limits are given or known here go to the store
// together, in one round trip on a store that batches (Redis); the others
// one by one. Every Idle counts from the call, however long the reports
// wait on the store. The error is the store's first, when it could not
// answer: some reports may have been recorded, and the caller should send
// them all again.
func (r *Registry) ReportAll(ctx context.Context, reps []Report) ([]Session, error) {
	ctx, cancel := r.callContext(ctx)
	defer cancel()
	now := r.opts.Clock.Now()
	out := make([]Session, len(reps))
	type pending struct {
		i   int
		lim session.Limits
		uid string
	}
	var (
		calls   []session.Call
		waiting []pending
	)
	for i, rep := range reps {
		lim, uid := rep.Limits, rep.UID
		if lim == (session.Limits{}) {
			lim, uid = r.known(rep.SID, uid)
		}
		if lim == (session.Limits{}) || rep.Passive {
			// The store must say which limits apply first: one by one.
			s, err := r.report(ctx, rep, now.Add(-rep.Idle))
			if err != nil {
				return nil, err
			}
			out[i] = s
			continue
		}
		calls = append(calls, session.Call{SID: rep.SID, Touch: true, Terms: session.Terms{Limits: lim, UID: rep.UID, EndAt: r.endAt(rep.EndAt)}})
		waiting = append(waiting, pending{i, lim, uid})
	}
	for j := range calls {
		calls[j].Idle = r.idleSince(now.Add(-reps[waiting[j].i].Idle))
	}
	for j, res := range r.store.Batch(ctx, calls) {
		if res.Err != nil {
			return nil, r.callFailed(res.Err)
		}
		p := waiting[j]
		out[p.i] = r.answer(calls[j].SID, p.lim, p.uid, res.Snapshot)
	}
	return out, nil
}

// idleSince is how long ago active was, by the node's clock; never less
// than zero.
func (r *Registry) idleSince(active time.Time) time.Duration {
	return max(r.opts.Clock.Now().Sub(active), 0)
}

// Lookup reads a session, ending it if it is past its deadline; a session
// the store does not know is StatusUnknown, and is not created.
func (r *Registry) Lookup(ctx context.Context, sid string) (Session, error) {
	ctx, cancel := r.callContext(ctx)
	defer cancel()
	lim, uid := r.known(sid, "")
	snap, err := r.store.Check(ctx, sid, lim)
	if err != nil {
		return Session{}, r.callFailed(err)
	}
	return r.answer(sid, lim, uid, snap), nil
}

// End ends a session now for reason (logout or revoked) in every tab on
// every node, unless it has ended already; a session the store does not
// know is marked ended too, so that no token can start it later.
func (r *Registry) End(ctx context.Context, sid string, reason session.Reason) (Session, error) {
	ctx, cancel := r.callContext(ctx)
	defer cancel()
	lim, uid := r.known(sid, "")
	snap, err := r.store.End(ctx, sid, reason, lim)
	if err != nil {
		return Session{}, r.callFailed(err)
	}
	return r.answer(sid, lim, uid, snap), nil
}

// CountError counts, in presence_errors_total, an error with a protocol
// code that a surface beside /ws answered a client with.
func (r *Registry) CountError(code string) {
	r.metrics.errors.WithLabelValues(code).Inc()
}

// Reasons a page is refused, as presence_refused_total counts them.
const (
	// RefusedOrigin: the page's origin is not in -allowed-origins.
	RefusedOrigin = "origin"
	// RefusedToken: the page's token is missing, invalid or too old.
	RefusedToken = "token"
	// RefusedCrossSite: a cookie-authenticated ping from another site.
	RefusedCrossSite = "cross_site"
)

// CountRefusal counts, in presence_refused_total, a page refused for
// reason, one of the Refused constants.
func (r *Registry) CountRefusal(reason string) {
	r.metrics.refused.WithLabelValues(reason).Inc()
}

// known returns the limits and user of sid as this node's hub knows them,
// or zero Limits and uid when it holds no hub of sid: zero Limits make
// the store use the session's own, so that a read on a node that never
// saw the session's token never ends it early.
func (r *Registry) known(sid, uid string) (session.Limits, string) {
	h := r.lookup(sid)
	if h == nil {
		return session.Limits{}, uid
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if uid == "" {
		uid = h.uid
	}
	return h.lim, uid
}

// answer takes a snapshot fresh from the store (see take) and describes
// the session as it stands.
func (r *Registry) answer(sid string, lim session.Limits, uid string, snap session.Snapshot) Session {
	lim = snap.Limits.Or(lim).Or(r.opts.Verifier.Defaults())
	s := Session{SID: sid, Position: snap.Position(lim), Limits: lim, Reason: snap.Reason, EndsAt: snap.EndsAt}
	if h := r.take(sid, lim, uid, snap); h != nil {
		h.mu.Lock()
		s.Tabs, s.Sockets = h.tabsLocked(), len(h.tabs)
		h.mu.Unlock()
	}
	return s
}

// endAt returns the absolute end a call gives the store for a session
// whose token or application gives end (zero: none): the earlier of end
// and Options.MaxLifetime from now. The store keeps the first end a
// session is given, so that MaxLifetime counts from the session's first
// sight.
func (r *Registry) endAt(end time.Time) time.Time {
	if r.opts.MaxLifetime <= 0 {
		return end
	}
	max := r.opts.Clock.Now().Add(r.opts.MaxLifetime)
	if end.IsZero() || max.Before(end) {
		return max
	}
	return end
}

// callContext bounds a store call made for a caller: by ctx, by the store
// timeout, and by the registry's life.
func (r *Registry) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	stop := context.AfterFunc(r.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// callFailed logs and counts a store call that failed for a caller.
func (r *Registry) callFailed(err error) error {
	r.storeFailed("request not served", err)
	r.CountError(protocol.CodeStoreUnavailable)
	return err
}

// storeFailed logs a store call that failed, at debug: the outage itself
// is logged at warn, once when it starts and once when it ends (see
// watchedStore).
func (r *Registry) storeFailed(what string, err error) {
	if r.ctx.Err() != nil {
		return
	}
	r.log.Debug("store unavailable; "+what, zap.Error(err))
}
