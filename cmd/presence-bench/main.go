package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/presence-dev/presence/internal/soak"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "presence-bench:", err)
		os.Exit(1)
	}
}

// dispatch runs the role this process was started for: the coordinator
// people run, a worker holding tabs, the reference server, or the soak.
func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch role := os.Getenv(roleEnv); {
	case role == "worker":
		return runWorker(ctx, stdin, stdout)
	case role == "ref":
		return runRef(ctx, args)
	case role != "":
		return fmt.Errorf("%s is %q; unset it", roleEnv, role)
	case len(args) > 0 && args[0] == "ref":
		return runRef(ctx, args[1:])
	case len(args) > 0 && args[0] == "soak":
		return soak.Command(ctx, args[1:], stdout, stderr)
	}
	return run(ctx, args, stdout, stderr)
}

// run measures what the configuration asks and prints the table on
// stdout, its progress on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	started := time.Now()
	dir, err := os.MkdirTemp("", "presence-bench-")
	if err != nil {
		return err
	}
	// The servers' logs are kept when the run fails, to say why.
	defer func() {
		if err != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w\n(the servers' logs are kept in %s)", err, dir)
			return
		}
		os.RemoveAll(dir)
	}()
	b := &bench{cfg: cfg, dir: dir, progress: newProgress(stderr), machine: machine()}
	defer b.progress.done()
	b.secret = make([]byte, 32)
	rand.Read(b.secret)
	b.secret = []byte(hex.EncodeToString(b.secret))

	if b.bin = cfg.serverBin; b.bin != "" {
		if _, err := exec.LookPath(b.bin); err != nil {
			return fmt.Errorf("-server-bin: %w; build one with: go build -o /tmp/presence ./cmd/presence", err)
		}
	} else {
		b.progress.phase("building presence")
		b.bin = filepath.Join(dir, "presence")
		build := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "github.com/presence-dev/presence/cmd/presence")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build presence (or give a binary with -server-bin): %v\n%s", err, out)
		}
		// Builds may leave the commit out (-buildvcs=false); git knows it.
		if out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output(); err == nil {
			b.commit = strings.TrimSpace(string(out))
		}
	}
	if cfg.profileDir != "" {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return err
		}
	}
	machineBefore, err := readMachineCPU()
	if err != nil {
		return err
	}
	ownBefore := ownCPU()
	b.pool, err = startPool(cfg.workers, sourceAddrs)
	if err != nil {
		return err
	}
	defer func() {
		if b.pool != nil {
			b.pool.close()
		}
	}()

	t := newTable(cfg, b.machine, b.bin)
	t.commit = b.commit
	for _, store := range cfg.stores {
		col, err := b.store(ctx, store)
		if err != nil {
			return fmt.Errorf("%s store: %w", store, err)
		}
		t.columns[store] = col
	}
	if cfg.reference && (cfg.runs("idle") || cfg.runs("activity")) {
		col, err := b.reference(ctx)
		if err != nil {
			return fmt.Errorf("reference server: %w", err)
		}
		t.columns["reference"] = col
	}
	// The workers' CPU time counts once they have exited.
	b.pool.close()
	b.pool = nil
	b.progress.done()
	t.elapsed = time.Since(started)
	machineAfter, err := readMachineCPU()
	if err != nil {
		return err
	}
	t.load = describeLoad(machineAfter, machineBefore, ownCPU()-ownBefore, t.elapsed)
	return t.write(stdout)
}

// sourceAddrs are the tabs' local addresses, used in turn: each gives
// the tabs another 28,000 ephemeral ports per server port.
var sourceAddrs = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9"}
