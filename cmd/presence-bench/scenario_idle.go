package main

import (
	"context"
	"fmt"
	"time"
)

// Scenario idle: N tabs, each its own session, connect, say hello and
// stay idle. Once they are all served and have settled, and the server
// has collected its garbage, the server's RSS over its RSS before the
// tabs, divided by N, is what an idle tab costs; so is the count of
// goroutines over the count before.

// idleFigures are one round's figures.
type idleFigures struct {
	rssPerTab                float64 // KiB
	heapPerTab, stacksPerTab float64 // KiB
	goroutinesPerTab         float64
	baseRSS, tabsRSS         float64 // MiB
}

func (b *bench) idle(ctx context.Context, store string, srv *server, group string, round int) (idleFigures, error) {
	n := b.cfg.tabs
	var fig idleFigures
	if err := srv.collect(ctx); err != nil {
		return fig, err
	}
	base, err := srv.rss()
	if err != nil {
		return fig, err
	}
	baseGoroutines, err := srv.goroutines(ctx)
	if err != nil {
		return fig, err
	}
	baseHeap, baseStacks, err := heapAndStacks(ctx, srv)
	if err != nil {
		return fig, err
	}
	if _, err := b.openGroup(ctx, srv, group, n, quietWarnAfter, quietExpireAfter, nil); err != nil {
		return fig, err
	}
	// The reference answers nothing: its count of frames read says when
	// every hello is in, with the time presence's answers get.
	presence := srv.name == "presence"
	const helloTimeout = time.Minute
	if _, err := b.hello(ctx, group, n, helloSpec{Wait: presence, Timeout: helloTimeout}); err != nil {
		return fig, err
	}
	if !presence {
		if err := waitFrames(ctx, srv, float64(n), helloTimeout); err != nil {
			return fig, err
		}
	}
	b.progress.phase("%s: %d tabs idle, settling for %s", group, n, b.cfg.settle)
	if err := sleep(ctx, b.cfg.settle); err != nil {
		return fig, err
	}
	if err := srv.collect(ctx); err != nil {
		return fig, err
	}
	held, err := srv.rss()
	if err != nil {
		return fig, err
	}
	goroutines, err := srv.goroutines(ctx)
	if err != nil {
		return fig, err
	}
	heap, stacks, err := heapAndStacks(ctx, srv)
	if err != nil {
		return fig, err
	}
	if round == b.cfg.rounds-1 && b.cfg.runs("idle") {
		if err := b.profile(ctx, srv, store, "heap", "heap.pb.gz"); err != nil {
			return fig, err
		}
		if err := b.profile(ctx, srv, store, "goroutine", "goroutine.pb.gz"); err != nil {
			return fig, err
		}
		if err := b.saveMetrics(ctx, srv, store+"-idle-metrics.txt"); err != nil {
			return fig, err
		}
	}
	return idleFigures{
		rssPerTab:        float64(held-base) / 1024 / float64(n),
		heapPerTab:       (heap - baseHeap) / 1024 / float64(n),
		stacksPerTab:     (stacks - baseStacks) / 1024 / float64(n),
		goroutinesPerTab: float64(goroutines-baseGoroutines) / float64(n),
		baseRSS:          float64(base) / (1 << 20),
		tabsRSS:          float64(held) / (1 << 20),
	}, nil
}

// putIdle puts the idle figures of the rounds into col: the mean, and the
// range when there are several rounds.
func putIdle(col column, rounds []idleFigures) {
	var sum, goroutines, heap, stacks float64
	lo, hi := rounds[0].rssPerTab, rounds[0].rssPerTab
	for _, r := range rounds {
		sum += r.rssPerTab
		goroutines += r.goroutinesPerTab
		heap += r.heapPerTab
		stacks += r.stacksPerTab
		lo, hi = min(lo, r.rssPerTab), max(hi, r.rssPerTab)
	}
	n := float64(len(rounds))
	col[keyIdleRSS] = sum / n
	col[keyIdleRSSMin], col[keyIdleRSSMax] = lo, hi
	col[keyIdleRounds] = n
	col[keyIdleGoroutines] = goroutines / n
	col[keyIdleHeap], col[keyIdleStacks] = heap/n, stacks/n
	last := rounds[len(rounds)-1]
	col[keyRSSBase], col[keyRSSTabs] = last.baseRSS, last.tabsRSS
}

// heapAndStacks returns the bytes of srv's live heap and of its
// goroutines' stacks.
func heapAndStacks(ctx context.Context, srv *server) (heap, stacks float64, err error) {
	if heap, err = srv.metric(ctx, heapMetric); err != nil {
		return 0, 0, err
	}
	stacks, err = srv.metric(ctx, stackMetric)
	return heap, stacks, err
}

// waitFrames waits until srv has read n frames, or, by timeout, all but
// 1% of them or all but 5: on a loaded machine a few may straggle, which
// changes no figure (every tab's connection is there either way).
func waitFrames(ctx context.Context, srv *server, n float64, timeout time.Duration) error {
	by := time.Now().Add(timeout)
	for {
		got, err := srv.metric(ctx, srv.frames)
		if err != nil {
			return err
		}
		if got >= n || (got >= n-max(0.01*n, 5) && time.Now().After(by)) {
			return nil
		}
		if time.Now().After(by) {
			return fmt.Errorf("%s read %.0f frames in %s, want %.0f", srv.name, got, timeout, n)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// sleep waits for d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
