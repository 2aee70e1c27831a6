package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/zap"
)

// serveDebug serves Go's profiles at addr, a loopback address apart from
// the public one, until ctx ends. Profiles show the process's memory,
// tokens and secrets included, which is why -debug-addr takes loopback
// addresses only and is off by default.
func serveDebug(ctx context.Context, addr string, log *zap.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &configError{fmt.Sprintf("-debug-addr: listen on %s: %v", addr, err)}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("the profiling listener stopped", zap.Error(err))
		}
	}()
	log.Info("profiles served", zap.String("debug_addr", "http://"+ln.Addr().String()+"/debug/pprof/"))
	return nil
}
