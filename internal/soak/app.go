package soak

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presence-dev/presence/backend"
)

// appReportEvery is how often the application sends the activity it
// saw. The helpers send at least once a second; the soak sends more
// often, so that its truth (the instant of a request) and presence's (the
// report) stay within the checker's second.
const appReportEvery = 250 * time.Millisecond

// app plays the application: it registers logins, reports the requests
// of its people through the batch API and logs people out, to whichever
// node answers, keeping what it could not send for the next round, as
// the helpers do.
type app struct {
	run *run

	mu      sync.Mutex
	pending map[string]backend.Entry // by session id
	latest  map[string]time.Time     // the latest unsent activity of each
	logouts map[string]*history
	// histories are the sessions whose activity the application reports.
	histories map[string]*history

	failed  atomic.Int64 // calls a node failed or refused
	slowest atomic.Int64 // the longest report round, in nanoseconds
}

func newApp(r *run) *app {
	return &app{run: r, pending: map[string]backend.Entry{}, latest: map[string]time.Time{}, logouts: map[string]*history{}, histories: map[string]*history{}}
}

// login registers a session, as the helpers do at login.
func (a *app) login(h *history) {
	a.queue(h, h.login)
}

// request records a request of h's person now, which counts as activity.
func (a *app) request(h *history) {
	now := time.Now()
	h.active(now, time.Time{}) // presence knows only the report of it
	a.queue(h, now)
}

func (a *app) queue(h *history, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.histories[h.script.SID] = h
	a.pending[h.script.SID] = backend.Entry{SID: h.script.SID, UID: h.script.SID,
		WarnAfter: a.run.cfg.WarnAfter, ExpireAfter: a.run.cfg.ExpireAfter}
	a.latest[h.script.SID] = latestOf(a.latest[h.script.SID], at)
}

// logout asks presence to end h's session, until a node answers.
func (a *app) logout(h *history) {
	a.mu.Lock()
	a.logouts[h.script.SID] = h
	a.mu.Unlock()
}

// work sends what waits every appReportEvery until ctx is done.
func (a *app) work(ctx context.Context) {
	tick := time.NewTicker(appReportEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.send(ctx)
		a.sendLogouts(ctx)
	}
}

func (a *app) send(ctx context.Context) {
	a.mu.Lock()
	now := time.Now()
	defer func() {
		if d := int64(time.Since(now)); d > a.slowest.Load() {
			a.slowest.Store(d)
		}
	}()
	entries := make([]backend.Entry, 0, len(a.pending))
	sent := make(map[string]time.Time, len(a.pending))
	for sid, e := range a.pending {
		e.Idle = now.Sub(a.latest[sid])
		sent[sid] = a.latest[sid]
		entries = append(entries, e)
	}
	a.mu.Unlock()
	for start := 0; start < len(entries); start += 1000 {
		batch := entries[start:min(start+1000, len(entries))]
		if a.run.call(ctx, func(c *backend.Client) error {
			_, err := c.Batch(ctx, batch)
			if err != nil {
				a.failed.Add(1)
			}
			return err
		}) {
			answered := time.Now()
			a.mu.Lock()
			for _, e := range batch {
				// presence took the activity as whole seconds before the
				// report: that is what it knows, not the request itself.
				a.histories[e.SID].active(now.Add(-e.Idle.Truncate(time.Second)), answered)
			}
			for _, e := range batch {
				if a.latest[e.SID].Equal(sent[e.SID]) { // nothing newer came meanwhile
					delete(a.pending, e.SID)
					delete(a.latest, e.SID)
				}
			}
			a.mu.Unlock()
		}
	}
}

func (a *app) sendLogouts(ctx context.Context) {
	a.mu.Lock()
	var due []*history
	for _, h := range a.logouts {
		due = append(due, h)
	}
	a.mu.Unlock()
	for _, h := range due {
		at := time.Now()
		if a.run.call(ctx, func(c *backend.Client) error {
			_, err := c.Logout(ctx, h.script.SID, "logout")
			if err != nil {
				a.failed.Add(1)
			}
			return err
		}) {
			h.loggedOut(at)
			a.mu.Lock()
			delete(a.logouts, h.script.SID)
			a.mu.Unlock()
		}
	}
}

func latestOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
