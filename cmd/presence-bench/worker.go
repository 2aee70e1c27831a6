package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// A worker is a copy of presence-bench that holds tabs for the
// coordinator: a process holds at most a few ten thousand open files, so
// the tabs of a run are spread over several. The coordinator writes one
// request a line on the worker's stdin; the worker answers each on stdout
// with progress lines, then one line with the result or the error. It
// runs requests one at a time, and exits when stdin closes.

// request is one operation for a worker.
type request struct {
	ID   int             `json:"id"`
	Op   string          `json:"op"`
	Spec json.RawMessage `json:"spec"`
}

// reply is a worker's answer to a request: progress (a count of what is
// done so far), then a last line with Result or Error.
type reply struct {
	ID       int             `json:"id"`
	Progress *int            `json:"progress,omitempty"`
	Done     bool            `json:"done,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// worker is the state of a worker process: its groups of tabs.
type worker struct {
	groups map[string]*group

	outMu sync.Mutex
	out   *json.Encoder
}

// group is a worker's share of a group of tabs that a scenario drives
// together.
type group struct {
	addr string
	tabs []*tab
}

// runWorker serves the coordinator's requests from in until it closes.
func runWorker(ctx context.Context, in io.Reader, out io.Writer) error {
	w := &worker{groups: map[string]*group{}, out: json.NewEncoder(out)}
	defer w.closeAll()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return fmt.Errorf("worker: bad request %q: %w", sc.Text(), err)
		}
		res, err := w.do(ctx, req)
		rep := reply{ID: req.ID, Done: true}
		if err != nil {
			rep.Error = err.Error()
		} else if rep.Result, err = json.Marshal(res); err != nil {
			rep.Error = err.Error()
		}
		w.send(rep)
	}
	return sc.Err()
}

func (w *worker) send(r reply) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	w.out.Encode(r)
}

// progress returns a function that reports a count for request id, at
// most five times a second. The tabs of a request call it from their own
// goroutines.
func (w *worker) progress(id int) func(n int) {
	var (
		mu   sync.Mutex
		last time.Time
	)
	return func(n int) {
		mu.Lock()
		now := time.Now()
		due := now.Sub(last) >= 200*time.Millisecond
		if due {
			last = now
		}
		mu.Unlock()
		if due {
			w.send(reply{ID: id, Progress: &n})
		}
	}
}

// do runs one request.
func (w *worker) do(ctx context.Context, req request) (any, error) {
	progress := w.progress(req.ID)
	switch req.Op {
	case "open":
		return decodeAndRun(req.Spec, func(s openSpec) (any, error) { return w.open(ctx, s, progress) })
	case "hello":
		return decodeAndRun(req.Spec, func(s helloSpec) (any, error) { return w.hello(ctx, s, progress) })
	case "activity":
		return decodeAndRun(req.Spec, func(s activitySpec) (any, error) { return w.activity(ctx, s, progress) })
	case "dropped":
		return decodeAndRun(req.Spec, func(s droppedSpec) (any, error) { return w.dropped(ctx, s) })
	case "reconnect":
		return decodeAndRun(req.Spec, func(s reconnectSpec) (any, error) { return w.reconnect(ctx, s, progress) })
	case "stats":
		return decodeAndRun(req.Spec, func(s statsSpec) (any, error) { return w.stats(s) })
	case "close":
		return decodeAndRun(req.Spec, func(s closeSpec) (any, error) { return w.close(s) })
	case "ping":
		return decodeAndRun(req.Spec, func(s pingSpec) (any, error) { return pingLoad(ctx, s, progress) })
	}
	return nil, fmt.Errorf("worker: unknown operation %q", req.Op)
}

func decodeAndRun[S any](raw json.RawMessage, f func(S) (any, error)) (any, error) {
	var s S
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("worker: bad spec: %w", err)
	}
	return f(s)
}

func (w *worker) group(name string) (*group, error) {
	g, ok := w.groups[name]
	if !ok {
		return nil, fmt.Errorf("worker: no group %q", name)
	}
	return g, nil
}

// closeAll drops every tab, when the coordinator is gone.
func (w *worker) closeAll() {
	for _, g := range w.groups {
		for _, t := range g.tabs {
			t.close()
		}
	}
}
