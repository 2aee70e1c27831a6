//go:build ignore

// gen writes the client's bundles into client/ from client/src; run it
// with go generate ./client/.
package main

import (
	"fmt"
	"os"

	"github.com/presence-dev/presence/client/internal/bundle"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	files, err := bundle.Build(".")
	if err != nil {
		return err
	}
	for _, name := range bundle.Names {
		if err := os.WriteFile(name, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
