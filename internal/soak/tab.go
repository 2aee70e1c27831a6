package soak

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/presence-dev/presence/protocol"
)

// tab is one scripted browser tab: it keeps a WebSocket to a node,
// reconnecting as presence.js does after a drop (to the next node when
// its own is down), reports its person's activity, and records what
// presence sends it.
type tab struct {
	run   *run
	h     *history
	token string
	node  int // the node it tries first

	mu     sync.Mutex
	conn   *websocket.Conn
	last   time.Time // its person's last activity in this tab, or the login
	done   bool      // the session ended: it reconnects no more
	cutNow chan struct{}
}

func newTab(r *run, h *history, token string, node int) *tab {
	return &tab{run: r, h: h, token: token, node: node, last: h.login, cutNow: make(chan struct{}, 1)}
}

// live keeps the tab connected until the session ends or ctx is done.
func (t *tab) live(ctx context.Context) {
	for attempt := 0; ctx.Err() == nil && !t.isDone(); attempt++ {
		if attempt > 0 {
			// presence.js's backoff: a random pause, longer while nothing
			// answers, at most a few seconds.
			pause := time.Duration(rand.Int64N(int64(min(attempt, 4)) * int64(500*time.Millisecond)))
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
		}
		node := (t.node + attempt) % len(t.run.nodes)
		if t.session(ctx, node) {
			attempt = 0
		}
	}
}

// session holds one connection to node until it drops, and reports
// whether the hello was answered.
func (t *tab) session(ctx context.Context, node int) bool {
	dialCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	conn, _, err := websocket.Dial(dialCtx, t.run.nodes[node].wsURL(), &websocket.DialOptions{
		Subprotocols: []string{protocol.Subprotocol},
		HTTPClient:   t.run.httpClient,
	})
	cancel()
	if err != nil {
		return false
	}
	defer conn.CloseNow()
	t.mu.Lock()
	t.conn = conn
	idle := time.Since(t.last)
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.conn = nil
		t.mu.Unlock()
	}()
	if !t.write(ctx, conn, protocol.ClientFrame{Type: protocol.TypeHello, Token: t.token, IdleMS: idle.Milliseconds()}) {
		return false
	}
	helloAt := time.Now()
	answered := false
	gone := make(chan struct{})
	defer close(gone)
	go func() {
		select {
		case <-t.cutNow:
			conn.CloseNow()
		case <-ctx.Done():
			conn.CloseNow()
		case <-gone:
		}
	}()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusCode(protocol.CloseSessionEnded) {
				t.finish()
			}
			return answered
		}
		f, err := protocol.DecodeServer(data)
		if err != nil {
			t.run.note("a frame that does not decode: %q", data)
			continue
		}
		now := time.Now()
		switch f.Type {
		case protocol.TypeState:
			if !answered {
				// presence took the hello's idle time: it knew of the
				// activity from the hello on. A hello it refused (its
				// store unreachable) told it nothing.
				t.h.told(helloAt.Add(-idle), helloAt)
			}
			answered = true
		case protocol.TypePing:
			t.write(ctx, conn, protocol.ClientFrame{Type: protocol.TypePong})
		case protocol.TypeWarn:
			t.h.warned(now)
		case protocol.TypeExpire:
			t.h.expired(now, string(f.Reason))
			t.finish()
		case protocol.TypeToken:
			t.mu.Lock()
			t.token = f.Token
			t.mu.Unlock()
		}
	}
}

// activity records the person's activity in this tab now and reports it
// if the tab is connected; a tab that is not reports it in its next
// hello, as presence.js does.
func (t *tab) activity(ctx context.Context) {
	now := time.Now()
	t.mu.Lock()
	t.last = now
	conn := t.conn
	t.mu.Unlock()
	if conn != nil && t.write(ctx, conn, protocol.ClientFrame{Type: protocol.TypeActivity}) {
		t.h.active(now, now)
		return
	}
	t.h.active(now, time.Time{}) // told with the next hello
}

// cut drops the tab's connection, as a network would.
func (t *tab) cut() {
	select {
	case t.cutNow <- struct{}{}:
	default:
	}
}

func (t *tab) write(ctx context.Context, conn *websocket.Conn, f protocol.ClientFrame) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, f.AppendJSON(nil)) == nil
}

func (t *tab) finish() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}

func (t *tab) isDone() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.done
}
