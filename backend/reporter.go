package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// ReporterOptions configures NewReporter. Client is required.
type ReporterOptions struct {
	// Client sends the batches.
	Client *Client
	// Ended, when set, learns of every session a batch's answer says has
	// expired, so that Middleware refuses its next request at once, before
	// the webhook arrives.
	Ended *Ended
	// FlushEvery is how often the queued reports go out. Zero means 1 s.
	FlushEvery time.Duration
	// MaxQueued bounds the sessions waiting to be reported, and the logins
	// remembered for them; past it new sessions' reports are dropped,
	// counted and logged. Zero means 100,000.
	MaxQueued int
	// Logger receives a line a minute at most while presence cannot be
	// reached or reports are dropped. Nil means slog.Default().
	Logger *slog.Logger
	// Now tells the time. Nil means time.Now.
	Now func() time.Time
}

// Login is what the application knows of a session when the person logs
// in: presence registers the session with it, and every later report of
// the session carries it, so that a presence that forgot the session
// learns it again.
type Login struct {
	UID string
	// WarnAfter and ExpireAfter, whole seconds, are the session's limits,
	// as minted into its tokens; zero means presence's defaults.
	WarnAfter, ExpireAfter time.Duration
	// EndAt is the session's absolute end, as minted into its tokens'
	// end_at: the login's time plus the application's longest session
	// lifetime, say. Zero means none.
	EndAt time.Time
}

// Reporter tells presence, in the background, of the logins and requests
// the application sees, so that every session is known from its login and
// the application's own pages count as activity, with or without
// presence.js. Its methods never wait on the network: reports wait in a
// bounded queue, one per session, and go out in batches at least once a
// FlushEvery. While presence cannot be reached they wait, with backoff,
// and go out once it is back. All methods may be called concurrently.
type Reporter struct {
	opts ReporterOptions

	mu      sync.Mutex
	queue   map[string]time.Time // sid → the latest activity not yet reported
	logins  *recent[Login]       // sid → its login, for every report of it
	dropped int                  // reports dropped since the last log line
	failed  int                  // batches that failed since the last log line
	lastLog time.Time

	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// NewReporter returns a Reporter and starts its goroutine, which Close
// stops.
func NewReporter(opts ReporterOptions) (*Reporter, error) {
	if opts.Client == nil {
		return nil, errors.New("backend: ReporterOptions.Client is required")
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = time.Second
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 100_000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Reporter{
		opts:   opts,
		queue:  make(map[string]time.Time),
		logins: newRecent[Login](opts.MaxQueued),
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go r.run()
	return r, nil
}

// Login registers session sid with presence, as the person logs in.
func (r *Reporter) Login(sid string, l Login) {
	r.mu.Lock()
	r.logins.put(sid, l, r.opts.Now())
	r.mu.Unlock()
	r.Activity(sid)
}

// Activity reports that the person of session sid was active now: a
// request of theirs reached the application.
func (r *Reporter) Activity(sid string) {
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, queued := r.queue[sid]; !queued && len(r.queue) >= r.opts.MaxQueued {
		r.dropped++
		r.logLocked(now)
		return
	}
	r.queue[sid] = now
}

// Flush sends what is queued now, without waiting for the next
// FlushEvery; it does not wait for the batches to go out.
func (r *Reporter) Flush() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Close sends what is queued, until ctx ends, and stops the Reporter. It
// returns ctx.Err() when reports were left unsent. It is idempotent.
func (r *Reporter) Close(ctx context.Context) error {
	r.closeOnce.Do(func() { close(r.stop) })
	<-r.done
	for {
		if r.flush(ctx) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) > 0 {
		return fmt.Errorf("backend: %d sessions' activity left unreported: %w", len(r.queue), context.Cause(ctx))
	}
	return nil
}

// maxBackoff bounds the wait after a failed batch, which doubles from
// FlushEvery with jitter, so that the processes of an application do not
// all retry at once when presence comes back, and yet report what they
// queued well within presence's recovery grace (8 s by default), before
// it ends the sessions nobody reported.
const maxBackoff = 2 * time.Second

func (r *Reporter) run() {
	defer close(r.done)
	wait := r.opts.FlushEvery
	for {
		select {
		case <-r.stop:
			return
		case <-r.kick:
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.opts.Client.timeout*3)
		ok := r.flush(ctx)
		cancel()
		if ok {
			wait = r.opts.FlushEvery
		} else {
			wait = min(wait*2, maxBackoff)
			wait = wait/2 + rand.N(wait/2+1)
		}
	}
}

// flush sends the queue in batches. It reports false when presence could
// not be reached; the unsent reports are then queued again.
func (r *Reporter) flush(ctx context.Context) bool {
	r.mu.Lock()
	if len(r.queue) == 0 {
		r.mu.Unlock()
		return true
	}
	now := r.opts.Now()
	queued := r.queue
	r.queue = make(map[string]time.Time, len(queued))
	entries := make([]Entry, 0, len(queued))
	for sid, at := range queued {
		e := Entry{SID: sid, Idle: now.Sub(at)}
		if it, ok := r.logins.get(sid); ok {
			e.UID, e.WarnAfter, e.ExpireAfter, e.EndAt = it.val.UID, it.val.WarnAfter, it.val.ExpireAfter, it.val.EndAt
		}
		entries = append(entries, e)
	}
	r.mu.Unlock()

	for len(entries) > 0 {
		n := min(len(entries), MaxBatch)
		statuses, err := r.opts.Client.Batch(ctx, entries[:n])
		var be *BatchError
		switch {
		case errors.As(err, &be):
			r.opts.Logger.Error("presence refused a report; it is dropped", slog.String("sid", entries[be.Index].SID), slog.String("problem", be.Message))
			entries = append(entries[:be.Index:be.Index], entries[be.Index+1:]...)
			continue // the rest at once
		case err != nil:
			r.requeue(queued, entries, now)
			return false
		}
		if r.opts.Ended != nil {
			for _, st := range statuses {
				if st.Status == statusExpired {
					r.opts.Ended.Add(st.SID, reasonExpired)
				}
			}
		}
		entries = entries[n:]
	}
	return true
}

// requeue puts back the entries a failed batch did not send, keeping
// any later activity reported meanwhile.
func (r *Reporter) requeue(queued map[string]time.Time, entries []Entry, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range entries {
		at := queued[e.SID]
		if later, ok := r.queue[e.SID]; ok && later.After(at) {
			continue
		}
		r.queue[e.SID] = at
	}
	r.failed++
	r.logLocked(now)
}

// logLocked writes a line about failures and drops, at most once a
// minute, so that an outage of presence does not flood the logs.
func (r *Reporter) logLocked(now time.Time) {
	if now.Sub(r.lastLog) < time.Minute {
		return
	}
	r.lastLog = now
	r.opts.Logger.Warn("presence cannot be reached; activity waits and is sent once it is back",
		slog.Int("failed_batches", r.failed), slog.Int("waiting_sessions", len(r.queue)), slog.Int("dropped_reports", r.dropped))
	r.failed, r.dropped = 0, 0
}
