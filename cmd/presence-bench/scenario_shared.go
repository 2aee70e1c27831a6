package main

import (
	"context"
	"fmt"
	"time"
)

// Scenario shared: what one WebSocket per browser saves. People, a tenth
// of N, each keep 1, 3 or 10 tabs of their session open, idle: once with
// a WebSocket per tab, once with the tabs of a person sharing one (its
// connection says hello, then a tabs frame with their count, as
// presence.js's leader does). Each measure runs on a fresh server; the
// figures are the sockets and the server's RSS per person.

// sharedTabCounts are the tabs a person keeps open.
var sharedTabCounts = []int{1, 3, 10}

func sharedKey(tabs int, shared bool) (sockets, rss string) {
	mode := "own"
	if shared {
		mode = "shared"
	}
	return fmt.Sprintf("shared_sockets_%s_%d", mode, tabs), fmt.Sprintf("shared_rss_%s_%d", mode, tabs)
}

func (b *bench) shared(ctx context.Context, col column, fresh func() (*server, error)) error {
	people := max(b.cfg.tabs/10, 1)
	col[keySharedPeople] = float64(people)
	for _, tabs := range sharedTabCounts {
		for _, shared := range []bool{false, true} {
			if shared && tabs == 1 {
				continue // one tab is one socket either way
			}
			srv, err := fresh()
			if err != nil {
				return err
			}
			sockets, rss, err := b.sharedOnce(ctx, srv, people, tabs, shared)
			srv.kill()
			if err != nil {
				return err
			}
			kSockets, kRSS := sharedKey(tabs, shared)
			col[kSockets], col[kRSS] = sockets, rss
		}
	}
	return nil
}

// sharedOnce measures people with tabs each on srv, and returns the
// sockets and the KiB of RSS per person.
func (b *bench) sharedOnce(ctx context.Context, srv *server, people, tabs int, shared bool) (sockets, rss float64, err error) {
	if err := srv.collect(ctx); err != nil {
		return 0, 0, err
	}
	base, err := srv.rss()
	if err != nil {
		return 0, 0, err
	}
	mode := "a socket per tab"
	conns, perSession, hello := people*tabs, tabs, helloSpec{Wait: true, Timeout: time.Minute}
	if shared {
		mode = "one shared socket"
		conns, perSession, hello.Shares = people, 1, tabs
	}
	group := b.newGroup(fmt.Sprintf("shared-%d", tabs))
	b.progress.phase("%s: %d people with %d tabs each, %s", group, people, tabs, mode)
	if _, err := b.openSessions(ctx, srv, group, conns, perSession, quietWarnAfter, quietExpireAfter, nil); err != nil {
		return 0, 0, err
	}
	defer b.closeGroup(ctx, group)
	if _, err := b.hello(ctx, group, conns, hello); err != nil {
		return 0, 0, err
	}
	if shared && tabs > 1 {
		// Each tabs frame is answered with a state: all in means all
		// counted.
		if err := waitMetric(ctx, srv, `presence_frames_in_total{type="tabs"}`, float64(people), time.Minute); err != nil {
			return 0, 0, err
		}
	}
	if err := sleep(ctx, b.cfg.settle); err != nil {
		return 0, 0, err
	}
	if err := srv.collect(ctx); err != nil {
		return 0, 0, err
	}
	held, err := srv.rss()
	if err != nil {
		return 0, 0, err
	}
	return float64(conns) / float64(people), float64(held-base) / 1024 / float64(people), nil
}

// waitMetric waits until srv's series reaches want.
func waitMetric(ctx context.Context, srv *server, series string, want float64, timeout time.Duration) error {
	by := time.Now().Add(timeout)
	for {
		got, err := srv.metric(ctx, series)
		if err != nil {
			return err
		}
		if got >= want {
			return nil
		}
		if time.Now().After(by) {
			return fmt.Errorf("%s: %s is %.0f after %s, want %.0f", srv.name, series, got, timeout, want)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}
