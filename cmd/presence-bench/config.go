package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// config is presence-bench's command line.
type config struct {
	tabs       int // idle tabs, the reconnect storm, warns due at one instant
	activeTabs int // tabs sending activity
	spreadTabs int // warns spread over one second
	unrelated  int // sessions warned during the activity
	scenarios  []string
	stores     []string // "memory", "redis"
	reference  bool
	rounds     int
	serverBin  string
	redisBin   string
	profileDir string
	rate       float64 // activity frames a second per tab
	window     time.Duration
	jitter     time.Duration
	settle     time.Duration
	pingConns  int
	pingWindow time.Duration
	workers    int
}

// scenarioNames are the scenarios all runs, in the order they run.
var scenarioNames = []string{"idle", "storm", "activity", "warn", "ping"}

// extraScenarios run only when named: "shared" measures what a shared
// socket saves (make bench-shared).
var extraScenarios = []string{"shared"}

// tabsPerWorker is how many tabs a worker holds at most, within a
// process's 20,000 open files.
const tabsPerWorker = 15000

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("presence-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.tabs, "tabs", 15000, "tabs held idle, reconnecting in the storm, and warned at one instant; each its own session")
	fs.IntVar(&c.activeTabs, "active-tabs", 0, "tabs sending activity; 0 means two thirds of -tabs")
	fs.IntVar(&c.spreadTabs, "spread-tabs", 0, "sessions whose warns are spread over one second; 0 means a third of -tabs")
	fs.IntVar(&c.unrelated, "unrelated", 20, "sessions warned while the others send activity")
	scenario := fs.String("scenario", "all", "comma-separated scenarios to run: "+strings.Join(append(slices.Clone(scenarioNames), extraScenarios...), ", ")+", or all (all but "+strings.Join(extraScenarios, ", ")+")")
	store := fs.String("store", "both", "presence's store: memory, redis (a private redis-server), or both side by side")
	fs.BoolVar(&c.reference, "reference", true, "measure the reference server too")
	fs.IntVar(&c.rounds, "rounds", 1, "rounds of the idle memory figures, each on a fresh server")
	fs.StringVar(&c.serverBin, "server-bin", "", "the presence binary to measure; empty builds ./cmd/presence of this module")
	fs.StringVar(&c.redisBin, "redis-server", "redis-server", "the redis-server program for -store redis")
	fs.StringVar(&c.profileDir, "profile", "", "a directory to keep, per store: presence's heap and goroutine profiles and /metrics with the tabs idle; its CPU profiles during the reconnect storm and the activity, /metrics after the activity, and Redis's commands by name")
	fs.Float64Var(&c.rate, "rate", 4, "activity frames a second from each active tab; presence allows 5")
	fs.DurationVar(&c.window, "window", 10*time.Second, "how long the tabs send activity")
	fs.DurationVar(&c.jitter, "jitter", 5*time.Second, "the reconnect storm's jitter: each tab reconnects at a uniformly random moment within it, as presence's client does")
	fs.DurationVar(&c.settle, "settle", 2*time.Second, "how long the idle tabs settle before the server's memory is read")
	fs.IntVar(&c.pingConns, "ping-conns", 16, "keep-alive connections sending /ping, each for a session of its own")
	fs.DurationVar(&c.pingWindow, "ping-window", 5*time.Second, "how long the connections send /ping")
	fs.IntVar(&c.workers, "workers", 0, "worker processes holding the tabs; 0 means enough for 15,000 tabs each, and at least 2")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q; presence-bench takes flags only (presence-bench -help lists them)", fs.Arg(0))
	}
	if c.activeTabs == 0 {
		c.activeTabs = c.tabs * 2 / 3
	}
	if c.spreadTabs == 0 {
		c.spreadTabs = max(c.tabs/3, 1)
	}
	switch {
	case c.tabs < 1:
		return c, fmt.Errorf("-tabs is %d; it must be at least 1", c.tabs)
	case c.activeTabs > c.tabs:
		return c, fmt.Errorf("-active-tabs is %d, more than -tabs (%d); the active tabs are some of the idle ones", c.activeTabs, c.tabs)
	case c.rate <= 0 || c.rate > 5:
		return c, fmt.Errorf("-rate is %g; it must be above 0 and at most 5, presence's limit per tab", c.rate)
	case c.rounds < 1:
		return c, fmt.Errorf("-rounds is %d; it must be at least 1", c.rounds)
	case c.window < time.Second:
		return c, fmt.Errorf("-window is %s; it must be at least 1s", c.window)
	case c.pingConns < 1:
		return c, fmt.Errorf("-ping-conns is %d; it must be at least 1", c.pingConns)
	}
	switch *store {
	case "both":
		c.stores = []string{"memory", "redis"}
	case "memory", "redis":
		c.stores = []string{*store}
	default:
		return c, fmt.Errorf("-store is %q; use memory, redis or both", *store)
	}
	if *scenario == "all" {
		c.scenarios = scenarioNames
	} else {
		for s := range strings.SplitSeq(*scenario, ",") {
			if !slices.Contains(scenarioNames, s) && !slices.Contains(extraScenarios, s) {
				return c, fmt.Errorf("-scenario names %q; use some of %s, or all", s, strings.Join(append(slices.Clone(scenarioNames), extraScenarios...), ","))
			}
			c.scenarios = append(c.scenarios, s)
		}
	}
	if c.workers == 0 {
		c.workers = max(2, (c.tabs+c.unrelated+tabsPerWorker-1)/tabsPerWorker)
	}
	if (c.tabs+c.unrelated)/c.workers > tabsPerWorker {
		return c, errors.New("-workers is too small: each worker may hold at most 15,000 tabs")
	}
	return c, nil
}

// runs reports whether scenario s is to run.
func (c config) runs(s string) bool { return slices.Contains(c.scenarios, s) }
