package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// bench is one run of the tool: its configuration, its workers, and the
// servers it starts.
type bench struct {
	cfg      config
	dir      string // temporary files: binaries, logs, Redis's directory
	secret   []byte
	bin      string // presence
	commit   string // what bin was built from, when the tool built it
	pool     *pool
	redis    *redisServer // while the Redis column is measured
	progress *progress
	machine  string
	groups   int // groups made so far, for unique names
}

// column holds one server's figures, by key (see table.go).
type column map[string]float64

// Limits of the sessions whose warn is not measured: nothing is due
// during a run.
const (
	quietWarnAfter   = 540
	quietExpireAfter = 600
)

// store measures presence with store "memory" or "redis".
func (b *bench) store(ctx context.Context, store string) (column, error) {
	col := column{}
	storeURL := store
	if store == "redis" {
		r, err := startRedis(ctx, b.cfg.redisBin, b.dir)
		if err != nil {
			return nil, err
		}
		b.redis = r
		defer func() { r.stop(); b.redis = nil }()
		storeURL = r.url()
	}
	// fresh returns a new presence on an empty store.
	fresh := func() (*server, error) {
		if b.redis != nil {
			if err := b.redis.flush(ctx); err != nil {
				return nil, fmt.Errorf("flush Redis: %w", err)
			}
		}
		srv, err := newPresence(b.bin, storeURL, b.dir, b.secret)
		if err != nil {
			return nil, err
		}
		return srv, srv.start(ctx)
	}

	if b.cfg.runs("idle") || b.cfg.runs("storm") || b.cfg.runs("activity") {
		if err := b.idleStormActivity(ctx, store, col, fresh); err != nil {
			return nil, err
		}
	}
	if b.cfg.runs("warn") {
		if err := b.warns(ctx, store, col, fresh); err != nil {
			return nil, err
		}
	}
	if b.cfg.runs("shared") {
		if err := b.shared(ctx, col, fresh); err != nil {
			return nil, err
		}
	}
	if b.cfg.runs("ping") {
		srv, err := fresh()
		if err != nil {
			return nil, err
		}
		err = b.ping(ctx, store, srv, col)
		srv.kill()
		if err != nil {
			return nil, err
		}
	}
	return col, nil
}

// reference measures the reference server: its idle tabs, their
// reconnecting after it restarts, and its reading of activity frames.
func (b *bench) reference(ctx context.Context) (column, error) {
	col := column{}
	fresh := func() (*server, error) {
		srv, err := newReference(b.dir)
		if err != nil {
			return nil, err
		}
		return srv, srv.start(ctx)
	}
	return col, b.idleStormActivity(ctx, "reference", col, fresh)
}

// idleStormActivity runs the scenarios that share one set of tabs: they
// connect and idle, reconnect after the server restarts, then some of
// them send activity.
func (b *bench) idleStormActivity(ctx context.Context, store string, col column, fresh func() (*server, error)) error {
	var srv *server
	defer func() {
		if srv != nil {
			srv.kill()
		}
	}()
	var tabs string
	var rounds []idleFigures
	for round := range b.cfg.rounds {
		if !b.cfg.runs("idle") && round > 0 {
			break
		}
		if srv != nil {
			if err := b.closeGroup(ctx, tabs); err != nil {
				return err
			}
			srv.kill()
		}
		var err error
		if srv, err = fresh(); err != nil {
			return err
		}
		tabs = b.newGroup(store + "-idle")
		fig, err := b.idle(ctx, store, srv, tabs, round)
		if err != nil {
			return err
		}
		rounds = append(rounds, fig)
	}
	if b.cfg.runs("idle") {
		putIdle(col, rounds)
	}
	if b.cfg.runs("storm") {
		if err := b.storm(ctx, store, srv, tabs, col); err != nil {
			return err
		}
	}
	if b.cfg.runs("activity") {
		if err := b.activity(ctx, store, srv, tabs, col); err != nil {
			return err
		}
	}
	return b.closeGroup(ctx, tabs)
}

// newGroup returns a unique group name, also the prefix of its
// sessions' ids.
func (b *bench) newGroup(kind string) string {
	b.groups++
	return kind + "-" + strconv.Itoa(b.groups)
}

// openGroup connects n tabs to srv, each with its own session and a
// token with the limits given, in seconds. They say hello when join says
// (then openGroup returns the round trips from hello to state, in ns),
// or not yet when join is nil.
func (b *bench) openGroup(ctx context.Context, srv *server, group string, n int, warnAfter, expireAfter int64, join *helloSpec) ([]int64, error) {
	return b.openSessions(ctx, srv, group, n, 1, warnAfter, expireAfter, join)
}

// openSessions is openGroup with perSession tabs, numbered in a row, to a
// session.
func (b *bench) openSessions(ctx context.Context, srv *server, group string, n, perSession int, warnAfter, expireAfter int64, join *helloSpec) ([]int64, error) {
	if join != nil {
		join.Group, join.Total = group, n
		b.progress.phase("%s: connecting %d tabs over %s, each saying hello at once", group, n, join.Pace)
	} else {
		b.progress.phase("%s: connecting %d tabs", group, n)
	}
	results, err := do[openResult](ctx, b.pool, "open", func(k int) any {
		return openSpec{Group: group, Addr: srv.addr, Secret: b.secret, Prefix: "bench-" + group + "-",
			Total: n, PerSession: perSession, Stride: len(b.pool.workers), Offset: k,
			WarnAfter: warnAfter, ExpireAfter: expireAfter, Sources: b.pool.sources, Join: join}
	}, b.progress.counter(n))
	if err != nil {
		return nil, err
	}
	var failed, states int
	var first string
	var trips []int64
	for _, r := range results {
		failed += r.Failed
		states += r.States
		trips = append(trips, r.RoundTrips...)
		if first == "" {
			first = r.FirstError
		}
	}
	if failed > 0 {
		return nil, fmt.Errorf("%d of %d tabs could not connect to %s; the first: %s", failed, n, srv.name, first)
	}
	if join != nil && join.Wait && !join.Refusals && states < n {
		return nil, b.helloFailed(ctx, group, n, n, states)
	}
	return trips, nil
}

// hello has the open tabs of group say hello, as s says, and returns the
// round trips from hello to state, in ns.
func (b *bench) hello(ctx context.Context, group string, n int, s helloSpec) ([]int64, error) {
	b.progress.phase("%s: hello from %d tabs", group, n)
	s.Group, s.Total = group, n
	results, err := do[helloResult](ctx, b.pool, "hello", func(int) any { return s }, b.progress.counter(n))
	if err != nil {
		return nil, err
	}
	var trips []int64
	sent, states := 0, 0
	for _, r := range results {
		sent += r.Sent
		states += r.States
		trips = append(trips, r.RoundTrips...)
	}
	if sent < n || (s.Wait && !s.Refusals && states < n) {
		return nil, b.helloFailed(ctx, group, n, sent, states)
	}
	return trips, nil
}

// helloFailed says how the hellos of group fell short.
func (b *bench) helloFailed(ctx context.Context, group string, n, sent, states int) error {
	st, err := b.stats(ctx, group, true)
	if err != nil {
		return err
	}
	return fmt.Errorf("%s: of %d tabs, %d said hello and %d had their state frame; the tabs' close codes: %v, error frames: %v",
		group, n, sent, states, st.CloseCodes, st.ErrorCodes)
}

// stats sums what the tabs of group saw; with countsOnly, without the
// lateness of each warn.
func (b *bench) stats(ctx context.Context, group string, countsOnly bool) (statsResult, error) {
	results, err := do[statsResult](ctx, b.pool, "stats", func(int) any { return statsSpec{Group: group, CountsOnly: countsOnly} }, nil)
	if err != nil {
		return statsResult{}, err
	}
	sum := statsResult{ErrorCodes: map[string]int{}, CloseCodes: map[int]int{}}
	for _, r := range results {
		sum.Tabs += r.Tabs
		sum.Open += r.Open
		sum.States += r.States
		sum.Warns += r.Warns
		sum.Expires += r.Expires
		sum.Warned += r.Warned
		sum.Errors += r.Errors
		sum.Unwarned += r.Unwarned
		sum.Lateness = append(sum.Lateness, r.Lateness...)
		sum.LatenessLow = append(sum.LatenessLow, r.LatenessLow...)
		for k, v := range r.ErrorCodes {
			sum.ErrorCodes[k] += v
		}
		for k, v := range r.CloseCodes {
			sum.CloseCodes[k] += v
		}
	}
	return sum, nil
}

// closeGroup closes the tabs of group.
func (b *bench) closeGroup(ctx context.Context, group string) error {
	b.progress.phase("%s: closing the tabs", group)
	_, err := do[int](ctx, b.pool, "close", func(int) any { return closeSpec{Group: group} }, nil)
	return err
}

// profile saves srv's profile at path to the profile directory as
// store-name, when the run keeps profiles.
func (b *bench) profile(ctx context.Context, srv *server, store, path, name string) error {
	if b.cfg.profileDir == "" {
		return nil
	}
	return srv.saveProfile(ctx, path, filepath.Join(b.cfg.profileDir, store+"-"+name))
}

// saveMetrics writes srv's /metrics to the profile directory as name,
// when the run keeps profiles.
func (b *bench) saveMetrics(ctx context.Context, srv *server, name string) error {
	if b.cfg.profileDir == "" {
		return nil
	}
	body, err := get(ctx, "http://"+srv.addr+"/metrics")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.cfg.profileDir, name), body, 0o644)
}

// sample is a reading of a server's counters, before or after a window.
type sample struct {
	at           time.Time
	cpu          time.Duration
	frames       float64
	redisCmds    int64   // commands, those that scripts run included
	nodeCmds     float64 // commands the node sent to Redis (presence_redis_commands_total)
	redisScripts int64   // calls of scripts
	redisCPU     time.Duration
	hasRedisCPU  bool
}

// sample reads srv's CPU time and, when frames, its count of activity
// frames; and Redis's commands and CPU time while Redis is measured.
func (b *bench) sample(ctx context.Context, srv *server, frames bool) (sample, error) {
	s := sample{at: time.Now()}
	var err error
	if s.cpu, err = srv.cpu(); err != nil {
		return s, err
	}
	if frames {
		if s.frames, err = srv.metric(ctx, srv.frames); err != nil {
			return s, err
		}
	}
	if b.redis != nil && srv.name == "presence" {
		if s.redisCmds, err = b.redis.commands(ctx); err != nil {
			return s, err
		}
		if s.nodeCmds, err = srv.metric(ctx, "presence_redis_commands_total"); err != nil {
			return s, err
		}
		if s.redisScripts, err = b.redis.scriptCalls(ctx); err != nil {
			return s, err
		}
		if s.redisCPU, err = b.redis.cpu(); err != nil {
			return s, err
		}
		s.hasRedisCPU = true
	}
	return s, nil
}
