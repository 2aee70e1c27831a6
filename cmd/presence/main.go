package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	var ce *configError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ce):
		fmt.Fprintln(os.Stderr, "presence:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "presence:", err)
		os.Exit(1)
	}
}
