package soak

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// ErrFailed is Command's error when the soak found a broken invariant.
var ErrFailed = errors.New("the soak found false logouts, missed logouts or lost ends")

// Command runs the soak as presence-bench's soak mode: flags in args, the
// schedule and progress on stderr, the report on stdout.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("presence-bench soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.ServerBin, "server-bin", "", "the presence binary the nodes run; empty builds ./cmd/presence")
	fs.IntVar(&cfg.People, "people", 2000, "people working at once, each a session after another")
	fs.IntVar(&cfg.Nodes, "nodes", 3, "presence nodes sharing the Redis")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Minute, "how long people work; every fault comes twice from 2m")
	fs.DurationVar(&cfg.WarnAfter, "warn-after", 4*time.Second, "every session's warn_after")
	fs.DurationVar(&cfg.ExpireAfter, "expire-after", 8*time.Second, "every session's expire_after")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "the seed of the people's scripts; 0 draws one, printed")
	keep := fs.String("dir", "", "where the servers' logs and Redis's data go; empty means a temporary directory, removed after a clean run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; every setting is a flag", fs.Arg(0))
	}
	cfg.Progress = stderr
	cfg.Dir = *keep
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "presence-soak-")
		if err != nil {
			return err
		}
		cfg.Dir = dir
	}
	if cfg.ServerBin == "" {
		cfg.ServerBin = filepath.Join(cfg.Dir, "presence")
		fmt.Fprintln(stderr, "soak: building presence")
		build := exec.CommandContext(ctx, "go", "build", "-o", cfg.ServerBin, "github.com/presence-dev/presence/cmd/presence")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build presence (or give a binary with -server-bin): %v\n%s", err, out)
		}
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, rep)
	if rep.Failed() {
		fmt.Fprintf(stderr, "soak: the servers' logs are in %s\n", cfg.Dir)
		return ErrFailed
	}
	if *keep == "" {
		os.RemoveAll(cfg.Dir)
	}
	return nil
}
