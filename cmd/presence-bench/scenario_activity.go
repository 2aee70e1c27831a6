package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/presence-dev/presence/protocol"
)

// Scenario activity: some of the idle tabs send activity frames at a
// steady rate each, evenly spread, for a window; a few other sessions,
// unrelated to them, are due to warn during it. The figures: the server's
// CPU time over the window divided by the activity frames it counted;
// with Redis, the commands Redis ran and its CPU time per frame; and how
// late the unrelated sessions were warned.

func (b *bench) activity(ctx context.Context, store string, srv *server, group string, col column) error {
	active := b.cfg.activeTabs
	presence := srv.name == "presence"
	var unrelated string
	if presence && b.cfg.unrelated > 0 {
		// Their warns fall from a fifth into the window to a fifth before
		// its end, with the tokens' warn_after long enough for every
		// hello's idle_ms to be 0 or more.
		unrelated = b.newGroup(store + "-unrelated")
		warnAfter := int64(math.Ceil(b.cfg.window.Seconds())) + 2
		if _, err := b.openGroup(ctx, srv, unrelated, b.cfg.unrelated, warnAfter, warnAfter+600, &helloSpec{
			Deadline:  time.Now().Add(b.cfg.window / 5).UnixNano(),
			Spread:    b.cfg.window * 3 / 5,
			WarnAfter: time.Duration(warnAfter) * time.Second,
			Wait:      true,
			Timeout:   10 * time.Second,
			Refusals:  true,
		}); err != nil {
			return err
		}
	}

	var statsBefore map[string]int64
	if b.redis != nil && presence && b.cfg.profileDir != "" {
		var err error
		if statsBefore, err = b.redis.commandStats(ctx); err != nil {
			return err
		}
	}
	before, err := b.sample(ctx, srv, true)
	if err != nil {
		return err
	}
	profiled := make(chan error, 1)
	if presence && b.cfg.profileDir != "" {
		go func() {
			secs := strconv.Itoa(max(int(b.cfg.window.Seconds()), 1))
			profiled <- b.profile(ctx, srv, store, "profile?seconds="+secs, "cpu.pb.gz")
		}()
	} else {
		profiled <- nil
	}
	b.progress.phase("%s: %d tabs sending %g activity frames a second for %s", group, active, b.cfg.rate, b.cfg.window)
	results, err := do[activityResult](ctx, b.pool, "activity", func(int) any {
		return activitySpec{Group: group, Below: active, Rate: b.cfg.rate, Duration: b.cfg.window}
	}, b.progress.counter(int(float64(active)*b.cfg.rate*b.cfg.window.Seconds())))
	if err != nil {
		return err
	}
	offered := 0
	for _, r := range results {
		offered += r.Sent
	}
	// The window closes once the server has counted every frame sent,
	// or a while after: frames in flight cost their CPU time after the
	// last one was sent.
	var after sample
	for by := time.Now().Add(drainTimeout); ; {
		if after, err = b.sample(ctx, srv, true); err != nil {
			return err
		}
		if after.frames-before.frames >= float64(offered) || time.Now().After(by) {
			break
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	if err := <-profiled; err != nil {
		return err
	}
	if presence {
		if err := b.saveMetrics(ctx, srv, store+"-activity-metrics.txt"); err != nil {
			return err
		}
	}
	if statsBefore != nil {
		if err := b.saveCommandStats(ctx, statsBefore, store+"-redis-commands.txt"); err != nil {
			return err
		}
	}
	counted := after.frames - before.frames
	if counted <= 0 {
		return fmt.Errorf("%s: %s counted no activity frames of the %d sent", group, srv.name, offered)
	}
	col[keyFrameCPU] = (after.cpu - before.cpu).Seconds() / counted * 1e6
	col[keyFramesOffered] = float64(offered)
	col[keyFramesCounted] = counted
	if after.hasRedisCPU {
		col[keyRedisCmds] = (after.nodeCmds - before.nodeCmds) / counted
		col[keyRedisProcessed] = float64(after.redisCmds-before.redisCmds) / counted
		col[keyRedisScripts] = float64(after.redisScripts-before.redisScripts) / counted
		col[keyRedisCPU] = (after.redisCPU - before.redisCPU).Seconds() / counted * 1e6
	}
	if unrelated == "" {
		return nil
	}
	st, err := b.stats(ctx, unrelated, false)
	if err != nil {
		return err
	}
	if len(st.Lateness) > 0 {
		col[keyUnrelatedLate] = float64(slices.Max(st.Lateness)) / 1e6
	}
	col[keyUnrelatedMissed] = float64(st.Unwarned)
	col[keyUnrelatedEarly] = 0
	for _, l := range st.Lateness {
		if l < -int64(earlyTolerance) {
			col[keyUnrelatedEarly]++
		}
	}
	return b.closeGroup(ctx, unrelated)
}

// saveCommandStats writes to the profile directory the commands Redis
// ran since before, by command, with their share of the total.
func (b *bench) saveCommandStats(ctx context.Context, before map[string]int64, name string) error {
	after, err := b.redis.commandStats(ctx)
	if err != nil {
		return err
	}
	var total int64
	for cmd, n := range after {
		after[cmd] = n - before[cmd]
		total += after[cmd]
	}
	cmds := slices.Collect(maps.Keys(after))
	slices.SortFunc(cmds, func(a, b string) int { return cmp.Compare(after[b], after[a]) })
	var out strings.Builder
	fmt.Fprintf(&out, "Redis commands during the activity window: %d\n", total)
	for _, cmd := range cmds {
		if after[cmd] > 0 {
			fmt.Fprintf(&out, "%-24s %10d  %5.1f%%\n", cmd, after[cmd], 100*float64(after[cmd])/float64(total))
		}
	}
	return os.WriteFile(filepath.Join(b.cfg.profileDir, name), []byte(out.String()), 0o644)
}

// drainTimeout bounds the wait for the server to count the frames sent.
const drainTimeout = 3 * time.Second

// activitySpec has the tabs of a group numbered below Below send Rate
// activity frames a second each, for Duration. The sends are spread
// evenly: tab k of n sends at (k + j*n) / (n*Rate) seconds.
type activitySpec struct {
	Group    string
	Below    int
	Rate     float64
	Duration time.Duration
}

type activityResult struct{ Sent, Failed int }

// activityTick is how often the sender wakes to send what is due.
const activityTick = 2 * time.Millisecond

func (w *worker) activity(ctx context.Context, s activitySpec, progress func(int)) (activityResult, error) {
	g, err := w.group(s.Group)
	if err != nil {
		return activityResult{}, err
	}
	var tabs []*tab
	for _, t := range g.tabs {
		if t.index < s.Below {
			tabs = append(tabs, t)
		}
	}
	var res activityResult
	if len(tabs) == 0 {
		return res, nil
	}
	if !slices.ContainsFunc(tabs, func(t *tab) bool { return t.open.Load() }) {
		return res, errors.New("worker: every active tab is closed")
	}
	// One frame for every send: idle_ms 0, the same mask. The server
	// unmasks what it reads whatever the key.
	frame := textFrame(protocol.ClientFrame{Type: protocol.TypeActivity})
	perSecond := float64(len(tabs)) * s.Rate
	total := int(perSecond * s.Duration.Seconds())
	tick := time.NewTicker(activityTick)
	defer tick.Stop()
	start := time.Now()
	// A sender that falls behind catches up in bursts, which the
	// server's allowance of 20 frames takes, but never sends past the
	// window: what it could not send is missing from Sent.
	for sent := 0; sent < total && ctx.Err() == nil; {
		now := <-tick.C
		if now.Sub(start) > s.Duration {
			break
		}
		due := min(int(now.Sub(start).Seconds()*perSecond), total)
		stamp := now.UnixNano()
		for ; sent < due; sent++ {
			t := tabs[sent%len(tabs)]
			if t.write(frame) != nil {
				res.Failed++
				continue
			}
			t.lastActive.Store(stamp)
			res.Sent++
		}
		progress(res.Sent)
	}
	return res, ctx.Err()
}
