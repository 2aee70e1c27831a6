package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The reference server is the least a WebSocket server built on
// coder/websocket can hold and do per tab: the floor that presence's
// figures are set beside. Its handler returns as soon as the connection
// is upgraded, so net/http lets go of the request and its buffers; the
// connection reads through 512-byte buffers, on a goroutine of its own
// that reads every frame and answers none.

// refFramesMetric is the series of the reference server's /metrics that
// counts the frames it read.
const refFramesMetric = "presence_bench_reference_frames_total"

// refBufferSize is the size of the reference's read and write buffers,
// as presence's.
const refBufferSize = 512

// runRef serves the reference server until ctx ends.
func runRef(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("presence-bench ref", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8766", "where to serve /ws, /healthz and /metrics")
	debugAddr := fs.String("debug-addr", "", "a loopback address for Go's profiles at /debug/pprof/; empty for none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var frames atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{Subprotocols: []string{"presence.v1"}})
		if err != nil {
			return
		}
		go readAll(conn, &frames)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		// The Go runtime's series are named as presence's Prometheus
		// collector names them.
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "%s %d\n%s %d\n%s %d\n", refFramesMetric, frames.Load(),
			heapMetric, m.HeapAlloc, stackMetric, m.StackInuse)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if *debugAddr != "" {
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dsrv := &http.Server{Addr: *debugAddr, Handler: dbg, ReadHeaderTimeout: 10 * time.Second}
		go dsrv.ListenAndServe()
		defer dsrv.Close()
	}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("reference server: %w", err)
	}
	return nil
}

// readAll reads conn's frames until it closes, counting them.
func readAll(conn *websocket.Conn, frames *atomic.Int64) {
	defer conn.CloseNow()
	for {
		_, r, err := conn.Reader(context.Background())
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
		frames.Add(1)
	}
}

// smallBuffers is a ResponseWriter whose Hijack hands coder/websocket
// buffers of refBufferSize instead of net/http's 4 KiB ones.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent after its request are in net/http's buffer
	// already; the new buffer must hold them, since coder/websocket keeps
	// what is buffered and then reads the connection itself.
	early := rw.Reader.Buffered()
	var in io.Reader = conn
	if early > 0 {
		b, _ := rw.Reader.Peek(early)
		in = io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn)
	}
	br := bufio.NewReaderSize(in, max(refBufferSize, early))
	if early > 0 {
		br.Peek(early) // from the copy alone: it holds early bytes
	}
	if err := rw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, refBufferSize)), nil
}

// Unwrap lets http.ResponseController reach the ResponseWriter.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }
