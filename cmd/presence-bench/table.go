package main

import (
	"debug/buildinfo"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Keys of the figures in a column.
const (
	keyIdleRSS            = "idle_rss_kib"
	keyIdleRSSMin         = "idle_rss_min_kib"
	keyIdleRSSMax         = "idle_rss_max_kib"
	keyIdleRounds         = "idle_rounds"
	keyIdleGoroutines     = "idle_goroutines"
	keyIdleHeap           = "idle_heap_kib"
	keyIdleStacks         = "idle_stacks_kib"
	keyRSSBase            = "rss_base_mib"
	keyRSSTabs            = "rss_tabs_mib"
	keyStormRate          = "storm_per_cpu_second"
	keyStormCPU           = "storm_cpu_us"
	keyStormBack          = "storm_back"
	keyStormWall          = "storm_wall_s"
	keyStormRetries       = "storm_retries"
	keyFalseLogouts       = "false_logouts"
	keyStormRefused       = "storm_refused"
	keyFrameCPU           = "frame_cpu_us"
	keyFramesOffered      = "frames_offered"
	keyFramesCounted      = "frames_counted"
	keyRedisCmds          = "redis_cmds_per_frame"
	keyRedisProcessed     = "redis_processed_per_frame"
	keyRedisScripts       = "redis_scripts_per_frame"
	keyRedisCPU           = "redis_cpu_us"
	keyCPURatio           = "cpu_ratio"
	keyUnrelatedLate      = "unrelated_late_ms"
	keyUnrelatedMissed    = "unrelated_missed"
	keyUnrelatedEarly     = "unrelated_early"
	keyWarnP50            = "warn_p50_ms"
	keyWarnP99            = "warn_p99_ms"
	keyWarnMax            = "warn_max_ms"
	keyWarnEarly          = "warn_early"
	keyWarnEarlyWithin    = "warn_early_within"
	keyWarnMissing        = "warn_missing"
	keyWarnRoundTrip      = "warn_round_trip_ms"
	keyWarnLowP50         = "warn_low_p50_ms"
	keyWarnLowP99         = "warn_low_p99_ms"
	keyInstantWithin      = "instant_within"
	keyInstantP50         = "instant_p50_ms"
	keyInstantMax         = "instant_max_ms"
	keyInstantEarly       = "instant_early"
	keyInstantEarlyWithin = "instant_early_within"
	keyInstantMissing     = "instant_missing"
	keyPingRate           = "ping_per_s"
	keyPingCPU            = "ping_cpu_us"
	keyPingCores          = "ping_cores"
	keyPingClientCores    = "ping_client_cores"
	keySharedPeople       = "shared_people"
)

// table is a run's figures, one column per server.
type table struct {
	cfg     config
	machine string
	bin     string
	commit  string            // the module's commit bin was built from, if known
	columns map[string]column // "memory", "redis", "reference"
	elapsed time.Duration
	load    string // how busy the machine was
}

func newTable(cfg config, machine, bin string) *table {
	return &table{cfg: cfg, machine: machine, bin: bin, columns: map[string]column{}}
}

// columnOrder and columnTitle name the columns.
var (
	columnOrder = []string{"memory", "redis", "reference"}
	columnTitle = map[string]string{"memory": "memory store", "redis": "Redis store", "reference": "reference"}
)

// row is one line of the table: a label and how a column shows it.
type row struct {
	label string
	cell  func(c column) (string, bool)
}

// figures returns a cell of the keys' values formatted by format, one
// verb each; the cell is empty when one is missing.
func figures(format string, keys ...string) func(column) (string, bool) {
	return func(c column) (string, bool) {
		args := make([]any, len(keys))
		for i, k := range keys {
			v, ok := c[k]
			if !ok || math.IsNaN(v) {
				return "", false
			}
			args[i] = grouped(v)
		}
		return fmt.Sprintf(format, args...), true
	}
}

// grouped formats whole numbers of four digits or more with thousands
// separators, and leaves other values to their verb.
type grouped float64

func (g grouped) Format(f fmt.State, verb rune) {
	v := float64(g)
	if prec, ok := f.Precision(); ok && prec == 0 && math.Abs(v) >= 1000 {
		s := strconv.FormatFloat(math.Round(math.Abs(v)), 'f', 0, 64)
		var b strings.Builder
		if v < 0 {
			b.WriteByte('-')
		}
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		io.WriteString(f, b.String())
		return
	}
	prec, _ := f.Precision()
	io.WriteString(f, strconv.FormatFloat(v, byte(verb), prec, 64))
}

func (t *table) rows() []row {
	c := t.cfg
	idleRSS := func(col column) (string, bool) {
		v, ok := col[keyIdleRSS]
		if !ok {
			return "", false
		}
		if col[keyIdleRounds] > 1 {
			return fmt.Sprintf("%.2f (%.2f–%.2f)", v, col[keyIdleRSSMin], col[keyIdleRSSMax]), true
		}
		return fmt.Sprintf("%.2f", v), true
	}
	return []row{
		{"RSS per idle tab, KiB", idleRSS},
		{"… of which live heap / goroutine stacks, KiB", figures("%.2f / %.2f", keyIdleHeap, keyIdleStacks)},
		{"goroutines per idle tab", figures("%.2f", keyIdleGoroutines)},
		{fmt.Sprintf("server RSS before / with %s idle tabs, MiB", thousands(c.tabs)), figures("%.0f / %.0f", keyRSSBase, keyRSSTabs)},
		{"reconnect storm: connects+hellos per second of server CPU", figures("%.0f", keyStormRate)},
		{"reconnect storm: server CPU per connect+hello, µs", figures("%.0f", keyStormCPU)},
		{"reconnect storm: tabs back / false logouts / refused", figures("%.0f / %.0f / %.0f", keyStormBack, keyFalseLogouts, keyStormRefused)},
		{"reconnect storm: seconds to the last tab back / connect retries", figures("%.1f / %.0f", keyStormWall, keyStormRetries)},
		{"server CPU per activity frame, µs", figures("%.2f", keyFrameCPU)},
		{"activity frames offered / counted", figures("%.0f / %.0f", keyFramesOffered, keyFramesCounted)},
		{"Redis commands the node sent per activity frame", figures("%.3f", keyRedisCmds)},
		{"Redis script calls per activity frame", figures("%.3f", keyRedisScripts)},
		{"Redis commands processed per activity frame, those scripts run inside included", figures("%.3f", keyRedisProcessed)},
		{"Redis CPU per activity frame, µs", figures("%.2f", keyRedisCPU)},
		{"server CPU per activity frame, Redis / memory", figures("%.2f×", keyCPURatio)},
		{fmt.Sprintf("unrelated sessions' warn lateness under activity, max ms (%d sessions) / not warned", c.unrelated), figures("%.1f / %.0f", keyUnrelatedLate, keyUnrelatedMissed)},
		{fmt.Sprintf("warn lateness p50 / p99 / max, ms (%s due within 1 s)", thousands(c.spreadTabs)), figures("%.1f / %.1f / %.1f", keyWarnP50, keyWarnP99, keyWarnMax)},
		{"… warns earlier than the deadline by > 2 ms / ≤ 2 ms; not warned", figures("%.0f / %.0f; %.0f", keyWarnEarly, keyWarnEarlyWithin, keyWarnMissing)},
		{"… hello→state round trip p99, ms (the deadline's uncertainty)", figures("%.1f", keyWarnRoundTrip)},
		{"… lateness p50 / p99 less each hello's round trip, ms (a lower bound)", figures("%.1f / %.1f", keyWarnLowP50, keyWarnLowP99)},
		{fmt.Sprintf("%s due at one instant: warned within 1 s, %%", thousands(c.tabs)), figures("%.2f", keyInstantWithin)},
		{"… lateness p50 / max, ms", figures("%.1f / %.1f", keyInstantP50, keyInstantMax)},
		{"… warns earlier than the deadline by > 2 ms / ≤ 2 ms; not warned", figures("%.0f / %.0f; %.0f", keyInstantEarly, keyInstantEarlyWithin, keyInstantMissing)},
		{fmt.Sprintf("/ping requests a second, %d connections", c.pingConns), figures("%.0f", keyPingRate)},
		{"one WebSocket per browser: people", figures("%.0f", keySharedPeople)},
		sharedRow(1, false), sharedRow(3, false), sharedRow(3, true), sharedRow(10, false), sharedRow(10, true),
		{"/ping server CPU per request, µs", figures("%.1f", keyPingCPU)},
		{"/ping cores busy: server / the tool's clients", figures("%.2f / %.2f", keyPingCores, keyPingClientCores)},
	}
}

// sharedRow is the row of the shared scenario for people with tabs each.
func sharedRow(tabs int, shared bool) row {
	how := "a WebSocket per tab"
	if shared {
		how = "one shared WebSocket"
	}
	if tabs == 1 {
		how = "one WebSocket"
	}
	sockets, rss := sharedKey(tabs, shared)
	return row{fmt.Sprintf("… %d tab(s) each, %s: sockets / RSS per person, KiB", tabs, how), figures("%.0f / %.2f", sockets, rss)}
}

// write prints the table in Markdown: the machine and the conditions,
// the figures, then the goals.
func (t *table) write(w io.Writer) error {
	if mem, ok := t.columns["memory"]; ok {
		if red, ok := t.columns["redis"]; ok && mem[keyFrameCPU] > 0 && red[keyFrameCPU] > 0 {
			red[keyCPURatio] = red[keyFrameCPU] / mem[keyFrameCPU]
		}
	}
	if v, ok := t.columns["memory"][keyInstantWithin]; ok {
		t.columns["memory"][keyInstantWithin] = v * 100
	}
	if v, ok := t.columns["redis"][keyInstantWithin]; ok {
		t.columns["redis"][keyInstantWithin] = v * 100
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s; %s; %s.\n\n", t.machine, t.load, runtime.Version())
	if t.commit != "" {
		fmt.Fprintf(&b, "presence: built from this module at %s.\n\n", t.commit)
	} else {
		fmt.Fprintf(&b, "presence: %s.\n\n", describeBinary(t.bin))
	}
	fmt.Fprintf(&b, "Conditions: %s\n\n", t.conditions())
	var cols []string
	for _, name := range columnOrder {
		if _, ok := t.columns[name]; ok {
			cols = append(cols, name)
		}
	}
	b.WriteString("| figure |")
	for _, name := range cols {
		b.WriteString(" " + columnTitle[name] + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(cols)) + "\n")
	for _, r := range t.rows() {
		cells := make([]string, len(cols))
		any := false
		for i, name := range cols {
			s, ok := r.cell(t.columns[name])
			if !ok {
				s = "—"
			}
			cells[i] = s
			any = any || ok
		}
		if any {
			fmt.Fprintf(&b, "| %s | %s |\n", r.label, strings.Join(cells, " | "))
		}
	}
	b.WriteString("\nGoals:\n\n")
	for _, g := range t.goals() {
		fmt.Fprintf(&b, "- %s\n", g)
	}
	fmt.Fprintf(&b, "\nThe run took %s.\n", t.elapsed.Round(time.Second))
	_, err := io.WriteString(w, b.String())
	return err
}

// conditions says what the run did, for the reader of the table.
func (t *table) conditions() string {
	c := t.cfg
	var parts []string
	parts = append(parts, fmt.Sprintf("N = %s tabs, each its own session, idle, then reconnecting after the server (presence or the reference) is killed and started again, each at a uniformly random moment within %s", thousands(c.tabs), c.jitter))
	parts = append(parts, fmt.Sprintf("%s of them send %g activity frames a second each, evenly spread, for %s, while %d unrelated sessions are due to warn", thousands(c.activeTabs), c.rate, c.window, c.unrelated))
	parts = append(parts, fmt.Sprintf("%s sessions due to warn within one second, then %s at one instant", thousands(c.spreadTabs), thousands(c.tabs)))
	parts = append(parts, fmt.Sprintf("sessions not timed have warn_after %d s / expire_after %d s", quietWarnAfter, quietExpireAfter))
	parts = append(parts, fmt.Sprintf("%d keep-alive connections send /ping for %s", c.pingConns, c.pingWindow))
	if c.runs("shared") {
		parts = append(parts, fmt.Sprintf("for one WebSocket per browser, %s people keep 1, 3 or 10 idle tabs of their session each, with a WebSocket per tab or one that says hello and then a tabs frame with their count, each measure on a fresh server", thousands(max(c.tabs/10, 1))))
	}
	parts = append(parts, "presence runs with -recovery-grace 0 -max-tabs 100000, a fresh process on an empty store for each scenario but the storm and the activity, which follow the idle tabs")
	parts = append(parts, fmt.Sprintf("the tabs are held by %d worker processes from %d loopback addresses", c.workers, len(sourceAddrs)))
	parts = append(parts, fmt.Sprintf("idle figures over %d round(s), each on a fresh server, settled %s then garbage-collected", c.rounds, c.settle))
	parts = append(parts, "CPU is the server process's user+system time from /proc; scenarios run: "+strings.Join(c.scenarios, ", "))
	return strings.Join(parts, "; ") + "."
}

// describeBinary names the presence binary and the commit it was built
// from, when it says.
func describeBinary(path string) string {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return path
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return fmt.Sprintf("%s (%s)", path, info.GoVersion)
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += ", modified"
	}
	return fmt.Sprintf("%s, commit %s (%s)", path, rev, info.GoVersion)
}

// thousands formats n with thousands separators.
func thousands(n int) string {
	return fmt.Sprintf("%.0f", grouped(n))
}

// goals checks the figures against the performance goals, one line each.
func (t *table) goals() []string {
	mem, red, ref := t.columns["memory"], t.columns["redis"], t.columns["reference"]
	stores := map[string]column{}
	for _, s := range []string{"memory", "redis"} {
		if col, ok := t.columns[s]; ok {
			stores[s] = col
		}
	}
	var out []string
	add := func(text string, ok, measured bool, detail string) {
		mark := "✗"
		switch {
		case !measured:
			mark, detail = "–", "not measured in this run"
		case ok:
			mark = "✓"
		}
		out = append(out, fmt.Sprintf("%s %s: %s", mark, text, detail))
	}
	has := func(c column, keys ...string) bool {
		for _, k := range keys {
			if v, ok := c[k]; !ok || math.IsNaN(v) {
				return false
			}
		}
		return c != nil
	}
	// perStore checks a goal on every store measured.
	perStore := func(text string, keys []string, pass func(column) bool, show func(column) string) {
		ok, measured := true, false
		var details []string
		for _, s := range []string{"memory", "redis"} {
			col := stores[s]
			if !has(col, keys...) {
				continue
			}
			measured = true
			ok = ok && pass(col)
			details = append(details, s+" "+show(col))
		}
		add(text, ok, measured, strings.Join(details, ", "))
	}

	add("RSS per idle tab ≤ reference + 1.5 KiB (memory store)",
		mem[keyIdleRSS] <= ref[keyIdleRSS]+1.5, has(mem, keyIdleRSS) && has(ref, keyIdleRSS),
		fmt.Sprintf("%.2f KiB, reference %.2f KiB", mem[keyIdleRSS], ref[keyIdleRSS]))
	add("RSS per idle tab of the Redis store within 1 KiB of the memory store's",
		math.Abs(red[keyIdleRSS]-mem[keyIdleRSS]) <= 1, has(mem, keyIdleRSS) && has(red, keyIdleRSS),
		fmt.Sprintf("%.2f KiB vs %.2f KiB", red[keyIdleRSS], mem[keyIdleRSS]))
	add("server CPU per activity frame ≤ 10 µs (memory store)",
		mem[keyFrameCPU] <= 10, has(mem, keyFrameCPU), fmt.Sprintf("%.2f µs", mem[keyFrameCPU]))
	add("server CPU per activity frame of the Redis store ≤ 1.3× the memory store's",
		red[keyCPURatio] <= 1.3, has(red, keyCPURatio), fmt.Sprintf("%.2f×", red[keyCPURatio]))
	add("Redis commands per activity frame ≤ 0.1",
		red[keyRedisCmds] <= 0.1, has(red, keyRedisCmds, keyRedisScripts),
		fmt.Sprintf("%.3f sent by the node, %.3f of them script calls; Redis processed %.3f, counting the commands the scripts run inside", red[keyRedisCmds], red[keyRedisScripts], red[keyRedisProcessed]))
	spread := thousands(t.cfg.spreadTabs) + " due within 1 s"
	add("warn lateness p99 ≤ 100 ms, "+spread+" (memory store)",
		mem[keyWarnP99] <= 100 && mem[keyWarnMissing] == 0, has(mem, keyWarnP99),
		fmt.Sprintf("%.1f ms (%.1f ms less each hello's round trip), %.0f not warned", mem[keyWarnP99], mem[keyWarnLowP99], mem[keyWarnMissing]))
	add("warn lateness p99 ≤ 150 ms, "+spread+" (Redis store)",
		red[keyWarnP99] <= 150 && red[keyWarnMissing] == 0, has(red, keyWarnP99),
		fmt.Sprintf("%.1f ms (%.1f ms less each hello's round trip), %.0f not warned", red[keyWarnP99], red[keyWarnLowP99], red[keyWarnMissing]))
	perStore(fmt.Sprintf("all of %s due at one instant warned within 1 s", thousands(t.cfg.tabs)),
		[]string{keyInstantWithin}, func(c column) bool { return c[keyInstantWithin] == 100 },
		func(c column) string {
			return fmt.Sprintf("%.2f %% (max %.0f ms)", c[keyInstantWithin], c[keyInstantMax])
		})
	perStore("no warn before its deadline (beyond 2 ms of rounding)",
		[]string{keyWarnEarly, keyInstantEarly}, func(c column) bool { return c[keyWarnEarly]+c[keyInstantEarly]+c[keyUnrelatedEarly] == 0 },
		func(c column) string {
			return fmt.Sprintf("%.0f early, %.0f within 2 ms", c[keyWarnEarly]+c[keyInstantEarly], c[keyWarnEarlyWithin]+c[keyInstantEarlyWithin])
		})
	perStore("an unrelated session's warn ≤ 100 ms late under the activity load",
		[]string{keyUnrelatedLate}, func(c column) bool { return c[keyUnrelatedLate] <= 100 && c[keyUnrelatedMissed] == 0 },
		func(c column) string {
			return fmt.Sprintf("max %.1f ms, %.0f not warned", c[keyUnrelatedLate], c[keyUnrelatedMissed])
		})
	perStore("reconnect storm ≥ 5,000 connects+hellos per second of server CPU",
		[]string{keyStormRate}, func(c column) bool { return c[keyStormRate] >= 5000 },
		func(c column) string {
			if !has(ref, keyStormRate) {
				return fmt.Sprintf("%.0f", grouped(c[keyStormRate]))
			}
			return fmt.Sprintf("%.0f (the reference's connects and frames read: %.0f)", grouped(c[keyStormRate]), grouped(ref[keyStormRate]))
		})
	perStore("reconnect storm: 0 false logouts, every tab back",
		[]string{keyFalseLogouts}, func(c column) bool { return c[keyFalseLogouts] == 0 && c[keyStormRefused] == 0 },
		func(c column) string {
			return fmt.Sprintf("%.0f false logouts, %.0f refused or not back", c[keyFalseLogouts], c[keyStormRefused])
		})
	perStore(fmt.Sprintf("/ping ≥ 25,000 requests a second at %d connections", t.cfg.pingConns),
		[]string{keyPingRate}, func(c column) bool { return c[keyPingRate] >= 25000 },
		func(c column) string { return fmt.Sprintf("%.0f", grouped(c[keyPingRate])) })
	return slices.Clip(out)
}
