package soak

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A minute of the soak, every fault once: no false logout, no missed
// logout, no lost end. SOAK_DURATION and SOAK_PEOPLE make it longer or
// larger.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: the soak runs for a minute")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("skipped: redis-server is not installed")
	}
	// The servers' logs stay for a person to read when the soak fails.
	dir, err := os.MkdirTemp("", "presence-soak-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "presence")
	build := exec.Command("go", "build", "-o", bin, "github.com/presence-dev/presence/cmd/presence")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build presence: %v\n%s", err, out)
	}
	cfg := Config{ServerBin: bin, Dir: dir, People: 300, Duration: time.Minute, Progress: testWriter{t}}
	if d, err := time.ParseDuration(os.Getenv("SOAK_DURATION")); err == nil {
		cfg.Duration = d
	}
	if n, err := strconv.Atoi(os.Getenv("SOAK_PEOPLE")); err == nil {
		cfg.People = n
	}
	if n, err := strconv.ParseUint(os.Getenv("SOAK_SEED"), 10, 64); err == nil {
		cfg.Seed = n
	}
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	if rep.Failed() {
		t.Error("the soak broke an invariant; the servers' logs are in " + dir)
		logTails(t, dir)
	} else {
		os.RemoveAll(dir)
	}
	for _, k := range []FaultKind{KillNode, RestartRedis, WebhookDown, CutTabs} {
		if rep.Faults[k] == 0 {
			t.Errorf("no %s was injected", k)
		}
	}
	if rep.Ends == 0 || rep.Warns == 0 || rep.RefusedDeliveries == 0 {
		t.Errorf("the soak saw %d ends, %d warnings and %d refused deliveries: it tested nothing", rep.Ends, rep.Warns, rep.RefusedDeliveries)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// logTails shows the end of each server's log, for a failure in a run
// whose files nobody can read later (CI).
func logTails(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, name := range logs {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		t.Logf("%s, its last %d lines:\n%s", filepath.Base(name), min(len(lines), 40), strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}
