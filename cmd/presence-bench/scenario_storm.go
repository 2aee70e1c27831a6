package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Scenario storm: the server holding the idle tabs crashes (SIGKILL) and
// starts again on the same address and store. Once it serves, every tab
// reconnects at a uniformly random moment within the jitter, as
// presence's client does, and says hello with its old token and its idle
// time. The figure is the connects and hellos served per second of the
// new server's CPU time, from the first reconnect to the last state
// frame; and no tab may be warned, expired or refused, across the whole
// life of the tabs. The reference server answers no hello: its figure
// counts from the first reconnect until it has read every hello, the
// floor of a connect and a frame read on this machine.

func (b *bench) storm(ctx context.Context, store string, srv *server, group string, col column) error {
	n := b.cfg.tabs
	b.progress.phase("%s: killing presence; the tabs see it drop", group)
	srv.kill()
	dropped, err := do[droppedResult](ctx, b.pool, "dropped", func(int) any {
		return droppedSpec{Group: group, Timeout: 10 * time.Second}
	}, nil)
	if err != nil {
		return err
	}
	for _, d := range dropped {
		if d.Open > 0 {
			return fmt.Errorf("%s: %d tabs still open 10 s after presence was killed", group, d.Open)
		}
	}
	b.progress.phase("%s: starting presence again", group)
	if err := srv.start(ctx); err != nil {
		return err
	}
	before, err := b.sample(ctx, srv, false)
	if err != nil {
		return err
	}
	// With -profile, the CPU profile of the storm's jitter.
	profiled := make(chan error, 1)
	go func() {
		secs := strconv.Itoa(max(int(b.cfg.jitter.Seconds()), 1))
		profiled <- b.profile(ctx, srv, store, "profile?seconds="+secs, "storm-cpu.pb.gz")
	}()
	b.progress.phase("%s: %d tabs reconnecting within %s", group, n, b.cfg.jitter)
	unanswered := srv.name != "presence"
	results, err := do[reconnectResult](ctx, b.pool, "reconnect", func(int) any {
		return reconnectSpec{Group: group, Jitter: b.cfg.jitter, Timeout: b.cfg.jitter + time.Minute, Unanswered: unanswered}
	}, b.progress.counter(n))
	if err != nil {
		return err
	}
	back := 0
	for _, r := range results {
		back += r.Back
	}
	if unanswered {
		// Back once the server has read the hello.
		if err := waitFrames(ctx, srv, float64(back), time.Minute); err != nil {
			return fmt.Errorf("%s: %w", group, err)
		}
		read, err := srv.metric(ctx, srv.frames)
		if err != nil {
			return err
		}
		back = min(back, int(read))
	}
	after, err := b.sample(ctx, srv, false)
	if err != nil {
		return err
	}
	if err := <-profiled; err != nil {
		return err
	}
	retries := 0
	for _, r := range results {
		retries += r.Retries
	}
	st, err := b.stats(ctx, group, true)
	if err != nil {
		return err
	}
	// What follows on these tabs starts from a quiet server.
	if err := sleep(ctx, min(time.Second, b.cfg.settle)); err != nil {
		return err
	}
	cpu := (after.cpu - before.cpu).Seconds()
	col[keyStormRate] = float64(back) / cpu
	col[keyStormCPU] = cpu / float64(back) * 1e6
	col[keyStormBack] = float64(back)
	col[keyStormWall] = after.at.Sub(before.at).Seconds()
	col[keyStormRetries] = float64(retries)
	col[keyFalseLogouts] = float64(st.Warns + st.Expires + st.CloseCodes[4410])
	col[keyStormRefused] = float64(n - back + st.Errors)
	return nil
}
