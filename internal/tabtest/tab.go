package tabtest

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/presence-dev/presence/protocol"
)

// Wait bounds every real-time wait for a frame or a close.
const Wait = 5 * time.Second

// Quiet is how long ExpectNothing listens to be sure a frame does not
// come.
const Quiet = 150 * time.Millisecond

// Dropped is the close code of a connection that ended without a close
// frame, as when a node is killed.
const Dropped protocol.CloseCode = -1

// Tab is a WebSocket client standing in for a browser tab.
type Tab struct {
	t      testing.TB
	Conn   *websocket.Conn
	frames chan protocol.ServerFrame
	done   chan struct{}
	status websocket.StatusCode // set once done is closed
	noPong atomic.Bool
}

// Dial connects a tab to the presence node serving base (http://host:port)
// at /ws, offering protocol v1, with header on the upgrade request. The
// connection is closed when the test ends.
func Dial(t testing.TB, base string, header http.Header) *Tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	url := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{protocol.Subprotocol},
		HTTPHeader:   header,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != protocol.Subprotocol {
		t.Fatalf("server selected subprotocol %q, want %q", got, protocol.Subprotocol)
	}
	conn.SetReadLimit(1 << 20)
	tt := &Tab{t: t, Conn: conn, frames: make(chan protocol.ServerFrame, 64), done: make(chan struct{})}
	go tt.readLoop()
	t.Cleanup(func() {
		conn.CloseNow()
		<-tt.done
	})
	return tt
}

// StopPonging makes the tab ignore the server's pings from now on.
func (tt *Tab) StopPonging() { tt.noPong.Store(true) }

func (tt *Tab) readLoop() {
	defer close(tt.done)
	for {
		_, data, err := tt.Conn.Read(context.Background())
		if err != nil {
			tt.status = websocket.CloseStatus(err)
			return
		}
		f, err := protocol.DecodeServer(data)
		if err != nil {
			tt.t.Errorf("server sent a frame that does not decode: %q: %v", data, err)
			continue
		}
		if f.Type == protocol.TypePing && !tt.noPong.Load() {
			tt.SendFrame(protocol.ClientFrame{Type: protocol.TypePong})
		}
		tt.frames <- f
	}
}

// Send writes raw as a text frame, failing the test if it cannot.
func (tt *Tab) Send(raw string) {
	tt.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	if err := tt.Conn.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
		tt.t.Errorf("write %q: %v", raw, err)
	}
}

// SendFrame writes f. A failed write surfaces as a closed connection in
// the test's expectations.
func (tt *Tab) SendFrame(f protocol.ClientFrame) {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	_ = tt.Conn.Write(ctx, websocket.MessageText, f.AppendJSON(nil))
}

// Hello sends hello with token and idleMS and returns the state frame
// that must answer it.
func (tt *Tab) Hello(token string, idleMS int64) protocol.ServerFrame {
	tt.t.Helper()
	tt.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: token, IdleMS: idleMS})
	return tt.Expect(protocol.TypeState)
}

// Activity reports activity idleMS ago.
func (tt *Tab) Activity(idleMS int64) {
	tt.SendFrame(protocol.ClientFrame{Type: protocol.TypeActivity, IdleMS: idleMS})
}

// Sync returns once the server has handled every frame sent before it: it
// sends a frame of an unknown type and waits for the error it earns, which
// the server sends only after the frames before it.
func (tt *Tab) Sync() {
	tt.t.Helper()
	tt.Send(`{"type":"sync"}`)
	f := tt.Expect(protocol.TypeError)
	if f.Code != protocol.CodeUnknownType {
		tt.t.Fatalf("sync: got error %q, want %q", f.Code, protocol.CodeUnknownType)
	}
}

// Collect returns, once the server has handled every frame sent before
// it (as Sync), the frames other than ping that came meanwhile.
func (tt *Tab) Collect() []protocol.ServerFrame {
	tt.t.Helper()
	tt.Send(`{"type":"sync"}`)
	var got []protocol.ServerFrame
	for {
		f, ok := tt.Next()
		if !ok {
			tt.t.Fatalf("connection closed (status %d) during Collect", tt.status)
		}
		if f.Type == protocol.TypeError && f.Code == protocol.CodeUnknownType {
			return got
		}
		got = append(got, f)
	}
}
