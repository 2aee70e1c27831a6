package backend

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// statusExpired is the API's status of an ended session.
	statusExpired = "expired"
	// reasonExpired is the reason recorded in Ended for a session the API
	// says is expired: the API does not say why.
	reasonExpired = "expired"
)

// MiddlewareOptions configures Middleware. SessionID and Ended are
// required.
type MiddlewareOptions struct {
	// SessionID returns the presence session id of the request's login
	// session, as it was minted into the page's token (see SessionID); ok
	// false means the request is not logged in, and passes through.
	SessionID func(*http.Request) (sid string, ok bool)
	// Ended holds the sessions presence ended; WebhookHandler feeds it.
	Ended *Ended
	// Client, if set, asks presence's API about sessions Ended does not
	// hold, at most once per CheckEvery per session; a session the API
	// says is expired is added to Ended. Answers are kept for as many
	// sessions as Ended's Max, the oldest dropped first. A request waits
	// at most for the Client's timeout, and is let through, and the
	// failure logged, when the API cannot answer (fail open); after a
	// failure the checks go on in the background, without a request
	// waiting for them, until the API answers again, so that an outage of
	// presence slows no request. Nil means Ended alone decides.
	Client *Client
	// Reporter, if set, is told of every request of a logged-in session
	// that has not ended and whose path is not passive: the application's
	// own pages count as activity, with or without presence.js, as every
	// request does in django-session-security. It never waits on the
	// network.
	Reporter *Reporter
	// PassivePaths lists the paths whose requests are not activity, as
	// django-session-security's PASSIVE_URLS and presence's
	// -passive-paths: exact paths ("/notifications/poll") and prefixes
	// ending in "*" ("/api/live/*").
	PassivePaths []string
	// CheckEvery is how long the API's answer about a session is trusted.
	// Zero means 30 s.
	CheckEvery time.Duration
	// OnEnded answers the requests of ended sessions. It should log the
	// person out (delete the login session), since Ended forgets the end
	// after its Keep; Ended.Has tells it why the session ended. Nil means
	// 401 with a short text, or a 303 to LoginURL when it is set.
	OnEnded http.Handler
	// LoginURL is where the default OnEnded sends the person. Empty means
	// no redirect.
	LoginURL string
	// Logger receives the API's failures, at warn. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Now tells the time CheckEvery is measured with. Nil means time.Now.
	Now func() time.Time
}

// Middleware returns a middleware that refuses the requests of sessions
// presence has ended, the way django-session-security's middleware logs
// out a session whose last activity is too old: a person who closed the
// tab, or whose page runs no script, is still logged out on the server.
// It answers from memory, without a call to presence per request.
//
// Middleware panics if SessionID or Ended is nil.
func Middleware(opts MiddlewareOptions) func(http.Handler) http.Handler {
	if opts.SessionID == nil {
		panic("backend: MiddlewareOptions.SessionID is required")
	}
	if opts.Ended == nil {
		panic("backend: MiddlewareOptions.Ended is required")
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = 30 * time.Second
	}
	if opts.OnEnded == nil {
		opts.OnEnded = defaultOnEnded(opts.LoginURL)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	g := &guard{opts: opts, checks: newRecent[*check](opts.Ended.max)}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sid, ok := opts.SessionID(r)
			if ok && g.ended(r.Context(), sid) {
				opts.OnEnded.ServeHTTP(w, r)
				return
			}
			if ok && opts.Reporter != nil && !passive(r.URL.Path, opts.PassivePaths) {
				opts.Reporter.Activity(sid)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// defaultOnEnded answers 401, or redirects to loginURL.
func defaultOnEnded(loginURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if loginURL != "" {
			http.Redirect(w, r, loginURL, http.StatusSeeOther)
			return
		}
		http.Error(w, "Your session has ended. Please log in again.", http.StatusUnauthorized)
	})
}

// guard decides whether a session has ended.
type guard struct {
	opts MiddlewareOptions

	mu     sync.Mutex
	checks *recent[*check] // sid → the last call to the API about it
	// down is set while the API fails: checks then run without a request
	// waiting for them.
	down atomic.Bool
}

// check is one call to the API about a session. Its status is written
// once, before done is closed.
type check struct {
	at     time.Time     // when the call started
	done   chan struct{} // closed when it returned
	status string        // the answer; empty when the call failed
}

// ended reports whether session sid has ended: Ended says so, or the API
// does.
func (g *guard) ended(ctx context.Context, sid string) bool {
	if _, ok := g.opts.Ended.Has(sid); ok {
		return true
	}
	if g.opts.Client == nil {
		return false
	}
	c, lead := g.start(sid)
	switch {
	case lead && g.down.Load():
		go g.call(ctx, sid, c)
		return false
	case lead:
		g.call(ctx, sid, c)
	default:
		select {
		case <-c.done:
		case <-ctx.Done():
			return false
		}
	}
	if c.status == statusExpired {
		g.opts.Ended.Add(sid, reasonExpired)
		return true
	}
	return false
}

// start returns the check that answers for sid now: the last one if it
// is still running or younger than CheckEvery, else a new one that the
// caller leads (makes the call for).
func (g *guard) start(sid string) (c *check, lead bool) {
	now := g.opts.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.checks.dropWhile(func(it *item[*check]) bool { return g.stale(it.val, now) })
	if it, ok := g.checks.get(sid); ok && !g.stale(it.val, now) {
		return it.val, false
	}
	c = &check{at: now, done: make(chan struct{})}
	g.checks.put(sid, c, now)
	return c, true
}

// stale reports whether c has returned and started CheckEvery or more
// before now, so that its answer no longer counts.
func (g *guard) stale(c *check, now time.Time) bool {
	select {
	case <-c.done:
		return now.Sub(c.at) >= g.opts.CheckEvery
	default:
		return false
	}
}

// call asks the API about sid for c, within the Client's timeout even if
// the leading request goes away, since other requests may wait for it.
func (g *guard) call(ctx context.Context, sid string, c *check) {
	defer close(c.done)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.opts.Client.timeout)
	defer cancel()
	st, err := g.opts.Client.Session(ctx, sid)
	if err != nil {
		if !g.down.Swap(true) {
			g.opts.Logger.Warn("presence API did not answer; requests are let through (fail open) and checked in the background until it does",
				slog.Any("error", err), slog.Duration("next_check_in", g.opts.CheckEvery))
		}
		return
	}
	if g.down.Swap(false) {
		g.opts.Logger.Info("presence API answers again")
	}
	c.status = st.Status
	if st.Status == statusExpired {
		g.opts.Ended.Add(sid, reasonExpired)
	}
}

// passive reports whether path is passive by patterns: an exact path, or
// a prefix pattern ending in "*".
func passive(path string, patterns []string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(path, prefix) {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}
