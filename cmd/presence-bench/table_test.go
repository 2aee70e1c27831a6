package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestGroupedFormatsThousands(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		format string
		v      float64
		want   string
	}{
		{"%.0f", 999, "999"},
		{"%.0f", 9999, "9,999"},
		{"%.0f", 15000, "15,000"},
		{"%.0f", 1234567.4, "1,234,567"},
		{"%.0f", -25000, "-25,000"},
		{"%.2f", 15000.5, "15000.50"},
	} {
		if got := fmt.Sprintf(c.format, grouped(c.v)); got != c.want {
			t.Errorf("%s of %g = %q, want %q", c.format, c.v, got, c.want)
		}
	}
}

// A goal is met, missed, or not measured when a figure it needs is
// missing; one measured on every store fails if any store fails.
func TestGoals(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTable(cfg, "", "")
	tb.columns["memory"] = column{keyIdleRSS: 6, keyFrameCPU: 12, keyStormRate: 6000, keyPingRate: 30000}
	tb.columns["redis"] = column{keyIdleRSS: 6.5, keyStormRate: 4000}
	tb.columns["reference"] = column{keyIdleRSS: 5}
	want := map[string]string{
		"RSS per idle tab ≤ reference":               "✓",
		"RSS per idle tab of the Redis store within": "✓",
		"server CPU per activity frame ≤ 10 µs":      "✗",
		"reconnect storm ≥ 5,000":                    "✗",
		"/ping ≥ 25,000":                             "✓",
		"Redis commands per activity frame":          "–",
	}
	goals := tb.goals()
	for prefix, mark := range want {
		found := false
		for _, g := range goals {
			if strings.HasPrefix(g, mark+" "+prefix) {
				found = true
			}
		}
		if !found {
			t.Errorf("no goal line %q %q in:\n%s", mark, prefix, strings.Join(goals, "\n"))
		}
	}
}
