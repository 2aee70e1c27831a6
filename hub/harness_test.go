package hub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// wait bounds every real-time wait in these tests. The server works in
// virtual time, so frames arrive in milliseconds; the bound only matters
// when a test fails.
const wait = 5 * time.Second

// quiet is how long a test listens to be sure a frame does not come.
const quiet = 150 * time.Millisecond

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// env is one presence node on 127.0.0.1 running in virtual time, with
// warn after 5 s and expire after 10 s unless a test says otherwise.
type env struct {
	t        *testing.T
	endsMu   sync.Mutex
	ends     []End // reported through Options.OnEnd
	clock    *clock.Manual
	store    *session.MemoryStore
	verifier *session.Verifier
	reg      *Registry
	srv      *httptest.Server
}

func newEnv(t *testing.T, tweak ...func(*Options)) *env {
	t.Helper()
	// Tokens are stamped by the real clock, so virtual time starts now.
	clk := clock.NewManual(time.Now().Truncate(time.Second))
	store := session.NewMemoryStore(session.MemoryOptions{Clock: clk, Retention: 13 * time.Hour})
	verifier, err := session.NewVerifier(session.VerifierOptions{
		Secret:   testSecret,
		MaxAge:   12 * time.Hour,
		Defaults: session.Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second},
		Clock:    clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: clk, store: store, verifier: verifier}
	opts := Options{Store: store, Verifier: verifier, Clock: clk, OnEnd: e.recordEnd}
	for _, f := range tweak {
		f(&opts)
	}
	reg, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", reg.ServeWS)
	mux.HandleFunc("/ping", reg.ServePing)
	mux.Handle(APIPrefix, reg.ServeAPI(testAPIKey))
	srv := httptest.NewServer(mux)
	e.reg, e.srv = reg, srv
	t.Cleanup(func() {
		reg.Close()
		srv.Close()
		store.Close()
	})
	return e
}

func (e *env) recordEnd(end End) {
	e.endsMu.Lock()
	defer e.endsMu.Unlock()
	e.ends = append(e.ends, end)
}

// endsSoFar returns the ends reported so far.
func (e *env) endsSoFar() []End {
	e.endsMu.Lock()
	defer e.endsMu.Unlock()
	return append([]End(nil), e.ends...)
}

const testAPIKey = "test-api-key-0123456789"

// token mints a token for sid at the current virtual time.
func (e *env) token(sid string) string {
	e.t.Helper()
	return e.mint(session.Claims{SID: sid})
}

func (e *env) mint(c session.Claims) string {
	e.t.Helper()
	tok, err := session.Mint(testSecret, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// advance moves virtual time; the wheel sees it on its next tick.
func (e *env) advance(d time.Duration) { e.clock.Advance(d) }

// testTab is a WebSocket client standing in for a browser tab. It
// answers ping with pong unless told not to, as presence.js does.
type testTab struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan protocol.ServerFrame
	done   chan struct{}
	status websocket.StatusCode // set once done is closed
	pong   bool
}

func (e *env) dial(t *testing.T) *testTab {
	t.Helper()
	return e.dialWith(t, nil)
}

func (e *env) dialWith(t *testing.T, header http.Header) *testTab {
	t.Helper()
	return dialURL(t, e.srv.URL, header)
}

// dialURL connects a test tab to the presence node serving base.
func dialURL(t *testing.T, base string, header http.Header) *testTab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
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
	tt := &testTab{t: t, conn: conn, frames: make(chan protocol.ServerFrame, 64), done: make(chan struct{}), pong: true}
	go tt.readLoop()
	t.Cleanup(func() {
		conn.CloseNow()
		<-tt.done
	})
	return tt
}

func (tt *testTab) readLoop() {
	defer close(tt.done)
	for {
		_, data, err := tt.conn.Read(context.Background())
		if err != nil {
			tt.status = websocket.CloseStatus(err)
			return
		}
		f, err := protocol.DecodeServer(data)
		if err != nil {
			tt.t.Errorf("server sent a frame that does not decode: %q: %v", data, err)
			continue
		}
		if f.Type == protocol.TypePing && tt.pong {
			tt.sendFrame(protocol.ClientFrame{Type: protocol.TypePong})
		}
		tt.frames <- f
	}
}

func (tt *testTab) send(raw string) {
	tt.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := tt.conn.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
		tt.t.Errorf("write %q: %v", raw, err)
	}
}

func (tt *testTab) sendFrame(f protocol.ClientFrame) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// Errors surface as a closed connection in the test's expectations.
	_ = tt.conn.Write(ctx, websocket.MessageText, f.AppendJSON(nil))
}

func (tt *testTab) hello(token string, idleMS int64) protocol.ServerFrame {
	tt.t.Helper()
	tt.sendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: token, IdleMS: idleMS})
	return tt.expect(protocol.TypeState)
}

func (tt *testTab) activity(idleMS int64) {
	tt.sendFrame(protocol.ClientFrame{Type: protocol.TypeActivity, IdleMS: idleMS})
}

// sync returns once the server has handled every frame sent before it: it
// sends a frame of an unknown type and waits for the error it earns, which
// the server sends only after the frames before it.
func (tt *testTab) sync() {
	tt.t.Helper()
	tt.send(`{"type":"sync"}`)
	f := tt.expect(protocol.TypeError)
	if f.Code != protocol.CodeUnknownType {
		tt.t.Fatalf("sync: got error %q, want %q", f.Code, protocol.CodeUnknownType)
	}
}

// next returns the next frame other than ping.
func (tt *testTab) next() (protocol.ServerFrame, bool) {
	tt.t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case f := <-tt.frames:
			if f.Type == protocol.TypePing {
				continue
			}
			return f, true
		case <-tt.done:
			select {
			case f := <-tt.frames:
				if f.Type == protocol.TypePing {
					continue
				}
				return f, true
			default:
				return protocol.ServerFrame{}, false
			}
		case <-timeout:
			tt.t.Fatalf("no frame within %s", wait)
		}
	}
}

// expect returns the next frame other than ping, which must be of type typ.
func (tt *testTab) expect(typ protocol.Type) protocol.ServerFrame {
	tt.t.Helper()
	f, ok := tt.next()
	if !ok {
		tt.t.Fatalf("connection closed (status %d) while waiting for %q", tt.status, typ)
	}
	if f.Type != typ {
		tt.t.Fatalf("got frame %+v, want type %q", f, typ)
	}
	return f
}

// expectNothing fails if a frame other than ping arrives soon.
func (tt *testTab) expectNothing() {
	tt.t.Helper()
	timeout := time.After(quiet)
	for {
		select {
		case f := <-tt.frames:
			if f.Type != protocol.TypePing {
				tt.t.Fatalf("got unexpected frame %+v", f)
			}
		case <-timeout:
			return
		}
	}
}

// expectClose waits for the server to close the connection with status.
func (tt *testTab) expectClose(status websocket.StatusCode) {
	tt.t.Helper()
	select {
	case <-tt.done:
	case <-time.After(wait):
		tt.t.Fatalf("connection still open after %s, want close %d", wait, status)
	}
	if tt.status != status {
		tt.t.Fatalf("closed with status %d, want %d", tt.status, status)
	}
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after %s", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signToken builds a token by hand, following DESIGN.md's recipe:
// base64url (with padding) of ts|b64(json)|HMAC-SHA256(name|ts|b64(json)).
func signToken(secret []byte, ts int64, payload string) string {
	value := base64.URLEncoding.EncodeToString([]byte(payload))
	stamp := strconv.FormatInt(ts, 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(TokenCookie + "|" + stamp + "|" + value))
	return base64.URLEncoding.EncodeToString([]byte(stamp + "|" + value + "|" + string(mac.Sum(nil))))
}
