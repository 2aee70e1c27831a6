package backend

import (
	"sync"
	"time"
)

// EndedOptions configures NewEnded.
type EndedOptions struct {
	// Keep is how long an end is remembered. Set it to at least presence's
	// token max age (-token-max-age), so that no page minted before the end
	// can bring the session back while the end is remembered. Zero means
	// 12 h, presence's default token max age.
	Keep time.Duration
	// Max bounds how many ends are remembered; past it, the oldest is
	// forgotten first. An end costs about 200 bytes. Zero means 1,000,000.
	Max int
	// Now tells the time. Nil means time.Now.
	Now func() time.Time
}

// Ended remembers which sessions presence ended, and why, for a while.
// WebhookHandler and Middleware feed it; Middleware consults it on every
// request, so Add and Has take O(1) time. All methods may be called
// concurrently.
//
// Ended lives in the memory of one process: see the package documentation
// for applications that run several.
type Ended struct {
	keep time.Duration
	max  int
	now  func() time.Time

	mu   sync.Mutex
	ends *recent[string] // sid → reason
}

// NewEnded returns an empty Ended.
func NewEnded(opts EndedOptions) *Ended {
	if opts.Keep <= 0 {
		opts.Keep = 12 * time.Hour
	}
	if opts.Max <= 0 {
		opts.Max = 1_000_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Ended{keep: opts.Keep, max: opts.Max, now: opts.Now, ends: newRecent[string](opts.Max)}
}

// Add records that presence ended session sid for reason (idle, logout,
// revoked or lifetime from the webhook; expired when the API said so without a
// reason). Adding an end already known keeps its first reason and
// remembers it for Keep from now. An empty sid is ignored.
func (e *Ended) Add(sid, reason string) {
	if sid == "" {
		return
	}
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ends.dropWhile(func(it *item[string]) bool { return e.stale(it, now) })
	if it, ok := e.ends.get(sid); ok {
		reason = it.val
	}
	e.ends.put(sid, reason, now)
}

// Has reports whether presence ended session sid less than Keep ago, and
// why.
func (e *Ended) Has(sid string) (reason string, ended bool) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	it, ok := e.ends.get(sid)
	if !ok {
		return "", false
	}
	if e.stale(it, now) {
		e.ends.remove(it)
		return "", false
	}
	return it.val, true
}

func (e *Ended) stale(it *item[string], now time.Time) bool {
	return now.Sub(it.at) >= e.keep
}
