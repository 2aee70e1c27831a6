package main

import (
	"context"
	"math"
	"slices"
	"time"
)

// Scenario warn: sessions whose warn deadlines the tool sets, through the
// token's warn_after and the hello's idle_ms, and whose warns it times on
// arrival. First a third of N sessions due within one second, spread
// evenly; then N sessions all due at the same instant.
//
// A tab's deadline is taken as hello's write time, less idle_ms, plus
// warn_after. presence reads the hello later than it was written, so the
// true deadline is no earlier: lateness is measured against a deadline
// that may be early by the hello's one-way trip (the hello→state round
// trip bounds it), and a warn that arrives before it is certainly early.
// idle_ms is whole milliseconds and Redis's clock is read in them, so a
// warn up to 2 ms before the deadline is counted apart.

// Rates of the warn scenario's hellos. Each hello's deadline is taken
// from its write, so presence must read it at once: on this machine a
// Redis node keeps up with about 1,000 connects and hellos a second, or
// 3,000 hellos of tabs already connected; beyond, hellos queue and the
// tool would count their wait as lateness.
const (
	joinRate  = 1000
	helloRate = 3000
)

// earlyTolerance is the rounding a warn may show, from idle_ms and
// Redis's clock in whole milliseconds.
const earlyTolerance = 2 * time.Millisecond

// warnFigures are the figures of one batch of warns.
type warnFigures struct {
	p50, p99, max      float64 // ms
	lowP50, lowP99     float64 // ms, less each hello's round trip
	early, earlyWithin float64 // warns before deadline-2ms, and within 2 ms before it
	missing            float64 // sessions not warned by the end
	withinSecond       float64 // the fraction warned within 1 s of their deadline
	roundTripP99       float64 // ms
}

func (b *bench) warns(ctx context.Context, store string, col column, fresh func() (*server, error)) error {
	for _, batch := range []struct {
		kind      string
		n         int
		spread    time.Duration
		connected bool
		put       func(warnFigures)
	}{
		{"spread", b.cfg.spreadTabs, time.Second, false, func(f warnFigures) {
			col[keyWarnP50], col[keyWarnP99], col[keyWarnMax] = f.p50, f.p99, f.max
			col[keyWarnEarly], col[keyWarnEarlyWithin] = f.early, f.earlyWithin
			col[keyWarnMissing] = f.missing
			col[keyWarnRoundTrip] = f.roundTripP99
			col[keyWarnLowP50], col[keyWarnLowP99] = f.lowP50, f.lowP99
		}},
		{"instant", b.cfg.tabs, 0, true, func(f warnFigures) {
			col[keyInstantWithin] = f.withinSecond
			col[keyInstantP50], col[keyInstantMax] = f.p50, f.max
			col[keyInstantEarly], col[keyInstantEarlyWithin] = f.early, f.earlyWithin
			col[keyInstantMissing] = f.missing
		}},
	} {
		srv, err := fresh()
		if err != nil {
			return err
		}
		fig, err := b.warnBatch(ctx, srv, b.newGroup(store+"-warn-"+batch.kind), batch.n, batch.spread, batch.connected)
		srv.kill()
		if err != nil {
			return err
		}
		batch.put(fig)
	}
	return nil
}

// warnBatch connects n tabs, each its own session, and has them say
// hello so that tab i's session is due to warn at D + spread*i/n, then
// waits for the warns. The tabs say hello as they connect, or when
// connected is set once all are connected, faster.
func (b *bench) warnBatch(ctx context.Context, srv *server, group string, n int, spread time.Duration, connected bool) (warnFigures, error) {
	var fig warnFigures
	// The server of the batch before, killed with its tabs, lets go of
	// their sockets first.
	if err := sleep(ctx, min(500*time.Millisecond, b.cfg.settle)); err != nil {
		return fig, err
	}
	rate := joinRate
	if connected {
		rate = helloRate
	}
	// The first deadline comes after the last hello.
	pace := time.Duration(n) * time.Second / time.Duration(rate)
	margin := 500*time.Millisecond + pace/4
	warnAfter := int64(math.Ceil((pace + margin + spread).Seconds())) + 1
	spec := &helloSpec{
		Pace:      pace,
		Spread:    spread,
		WarnAfter: time.Duration(warnAfter) * time.Second,
		Wait:      true,
		// A state that comes after the deadline makes a late warn, not
		// a failed run.
		Timeout:  margin + 10*time.Second,
		Refusals: true,
	}
	var trips []int64
	var err error
	if connected {
		if _, err := b.openGroup(ctx, srv, group, n, warnAfter, warnAfter+600, nil); err != nil {
			return fig, err
		}
		spec.Deadline = time.Now().Add(pace + margin).UnixNano()
		trips, err = b.hello(ctx, group, n, *spec)
	} else {
		spec.Deadline = time.Now().Add(pace + margin).UnixNano()
		trips, err = b.openGroup(ctx, srv, group, n, warnAfter, warnAfter+600, spec)
	}
	if err != nil {
		return fig, err
	}
	due := time.Unix(0, spec.Deadline)
	// Wait for every warn, or until 3 s after the last deadline.
	b.progress.phase("%s: waiting for %d warns", group, n)
	last := due.Add(spread)
	for {
		st, err := b.stats(ctx, group, true)
		if err != nil {
			return fig, err
		}
		b.progress.counter(n)(st.Warned)
		if st.Unwarned == 0 || time.Now().After(last.Add(3*time.Second)) {
			break
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return fig, err
		}
	}
	st, err := b.stats(ctx, group, false)
	if err != nil {
		return fig, err
	}
	if err := b.closeGroup(ctx, group); err != nil {
		return fig, err
	}
	late := st.Lateness
	slices.Sort(late)
	within := 0
	for _, l := range late {
		switch {
		case l < -int64(earlyTolerance):
			fig.early++
		case l < 0:
			fig.earlyWithin++
		}
		if l <= int64(time.Second) {
			within++
		}
	}
	fig.p50 = percentile(late, 0.50) / 1e6
	fig.p99 = percentile(late, 0.99) / 1e6
	if len(late) > 0 {
		fig.max = float64(late[len(late)-1]) / 1e6
	}
	low := st.LatenessLow
	slices.Sort(low)
	fig.lowP50 = percentile(low, 0.50) / 1e6
	fig.lowP99 = percentile(low, 0.99) / 1e6
	fig.missing = float64(st.Unwarned)
	fig.withinSecond = float64(within) / float64(n)
	slices.Sort(trips)
	fig.roundTripP99 = percentile(trips, 0.99) / 1e6
	return fig, nil
}

// percentile returns the p-th quantile of sorted, nearest rank; NaN for
// none.
func percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return float64(sorted[min(max(i, 0), len(sorted)-1)])
}
