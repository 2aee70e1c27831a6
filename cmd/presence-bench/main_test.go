package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain serves as the workers and the reference server when the run
// under test starts this test binary as them.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) != "" {
		if err := dispatch(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "presence-bench:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// smokeArgs is a run small and short enough for make test.
var smokeArgs = []string{"-tabs", "200", "-unrelated", "5", "-settle", "100ms", "-window", "1s",
	"-jitter", "300ms", "-ping-window", "300ms", "-ping-conns", "4"}

// The tool runs every scenario, shared included, at a tiny size and
// prints every row with figures: no false logout, no early warn, no tab
// refused.
func TestSmallRunPrintsEveryFigure(t *testing.T) {
	store := "both"
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; .ci/run should have installed it")
		}
		t.Log("the Redis store is left out: redis-server is not installed")
		store = "memory"
	}
	args := append(smokeArgs, "-store", store, "-scenario", strings.Join(append(scenarioNames, extraScenarios...), ","))
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("presence-bench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	out := stdout.String()
	cfg, err := parseConfig(args, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	cells := tableCells(t, out)
	stores := []string{"memory store"}
	if store == "both" {
		stores = append(stores, "Redis store")
	}
	number := regexp.MustCompile(`^-?[0-9]`)
	for _, r := range newTable(cfg, "", "").rows() {
		row, ok := cells[r.label]
		if !ok {
			t.Errorf("the table has no row %q\n%s", r.label, out)
			continue
		}
		for _, s := range stores {
			cell := row[s]
			redisOnly := strings.Contains(r.label, "Redis")
			if redisOnly && s == "memory store" {
				if cell != "—" {
					t.Errorf("%s: %s shows %q, want —", r.label, s, cell)
				}
				continue
			}
			if !number.MatchString(cell) {
				t.Errorf("%s: %s shows %q, want a figure\n%s", r.label, s, cell, out)
			}
		}
	}
	for _, s := range stores {
		if got := cells["reconnect storm: tabs back / false logouts / refused"][s]; got != "200 / 0 / 0" {
			t.Errorf("%s: reconnect storm %q, want 200 / 0 / 0", s, got)
		}
		for label, cell := range cells {
			if strings.Contains(label, "earlier than the deadline") && !strings.HasPrefix(cell[s], "0 / ") {
				t.Errorf("%s: %s %q, want no warn earlier than 2 ms before its deadline", s, label, cell[s])
			}
		}
	}
	if cells["RSS per idle tab, KiB"]["reference"] == "" {
		t.Errorf("the table has no reference column\n%s", out)
	}
	// The reference reads every hello of the storm, those sent right
	// after the upgrade included.
	if got := cells["reconnect storm: tabs back / false logouts / refused"]["reference"]; got != "200 / 0 / 0" {
		t.Errorf("reference: reconnect storm %q, want 200 / 0 / 0", got)
	}
	if got := cells["reconnect storm: connects+hellos per second of server CPU"]["reference"]; !number.MatchString(got) {
		t.Errorf("reference: reconnect storm rate %q, want a figure", got)
	}
	httpClient.CloseIdleConnections()
}

// tableCells returns the table's cells by row label and column title.
func tableCells(t *testing.T, out string) map[string]map[string]string {
	t.Helper()
	var titles []string
	cells := map[string]map[string]string{}
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		fields := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), " | ")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if fields[0] == "figure" {
			titles = fields[1:]
			continue
		}
		if len(fields) != len(titles)+1 {
			t.Fatalf("row %q has %d cells, want %d", line, len(fields)-1, len(titles))
		}
		row := map[string]string{}
		for i, title := range titles {
			row[title] = fields[i+1]
		}
		cells[fields[0]] = row
	}
	if titles == nil {
		t.Fatalf("no table in the output:\n%s", out)
	}
	return cells
}
