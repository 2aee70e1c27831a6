package hub

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

func TestBadTokensAreRefusedWith4401(t *testing.T) {
	e := newEnv(t)
	good := e.token("s1")
	otherSecret, err := session.Mint([]byte("another-secret-that-is-32-bytes-long!!"), session.Claims{SID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.URLEncoding.DecodeString(good)
	tampered := base64.URLEncoding.EncodeToString(append(raw[:len(raw)-1:len(raw)-1], raw[len(raw)-1]^1))
	badSID := e.mintUnchecked(`{"sid":"bad sid with spaces"}`)
	badLimits := e.mintUnchecked(`{"sid":"s1","warn_after":700,"expire_after":600}`)

	cases := []struct {
		name, token, code string
	}{
		{"missing", "", "token_missing"},
		{"another secret", otherSecret, "token_invalid"},
		{"tampered", tampered, "token_invalid"},
		{"garbage", "not-a-token", "token_invalid"},
		{"malformed sid", badSID, "claims_invalid"},
		{"warn not below expire", badLimits, "claims_invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := e.dial(t)
			tab.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: c.token})
			f := tab.Expect(protocol.TypeError)
			if f.Code != c.code {
				t.Errorf("error code = %q, want %q (%s)", f.Code, c.code, f.Message)
			}
			if c.token != "" && strings.Contains(f.Message, c.token) {
				t.Errorf("error message repeats the token: %q", f.Message)
			}
			tab.ExpectClose(protocol.CloseTokenRefused)
		})
	}
	t.Run("older than max age", func(t *testing.T) {
		e := newEnv(t)
		old := e.token("s1")
		e.advance(12*time.Hour + time.Second)
		tab := e.dial(t)
		tab.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: old})
		if f := tab.Expect(protocol.TypeError); f.Code != "token_too_old" {
			t.Errorf("error code = %q, want token_too_old", f.Code)
		}
		tab.ExpectClose(protocol.CloseTokenRefused)
	})
}

// mintUnchecked signs an arbitrary payload, as a buggy application might,
// to show that presence checks the claims it did not mint.
func (e *env) mintUnchecked(payload string) string {
	e.t.Helper()
	return signToken(testSecret, e.clock.Now().Unix(), payload)
}

func TestTokenFromCookie(t *testing.T) {
	e := newEnv(t)
	tab := e.dialWith(t, http.Header{"Cookie": {session.CookieName + "=" + e.token("s1")}})
	if st := tab.Hello("", 0); st.Status != protocol.StatusActive {
		t.Fatalf("state = %+v", st)
	}
}

func TestTabWithoutHelloIsClosed(t *testing.T) {
	e := newEnv(t)
	tab := e.dial(t)
	eventually(t, "tab registered", func() bool { return e.reg.Tabs() == 1 })
	e.advance(9 * time.Second)
	tab.ExpectNothing()
	e.advance(time.Second)
	if f := tab.Expect(protocol.TypeError); f.Code != "hello_timeout" {
		t.Errorf("error code = %q, want hello_timeout", f.Code)
	}
	tab.ExpectClose(protocol.ClosePolicyViolation)
}

func TestFrameBeforeHelloIsClosed(t *testing.T) {
	e := newEnv(t)
	for _, raw := range []string{`{"type":"activity","idle_ms":0}`, `not json`, `{"type":"nope"}`} {
		t.Run(raw, func(t *testing.T) {
			tab := e.dial(t)
			tab.Send(raw)
			tab.Expect(protocol.TypeError)
			tab.ExpectClose(protocol.ClosePolicyViolation)
		})
	}
}

func TestHarmlessBadFramesKeepTheTabOpen(t *testing.T) {
	e := newEnv(t)
	tab := e.dial(t)
	tab.Hello(e.token("s1"), 0)
	cases := []struct{ raw, code string }{
		{`not json`, protocol.CodeBadJSON},
		{`{"idle_ms":0}`, protocol.CodeMissingType},
		{`{"type":"warn"}`, protocol.CodeUnknownType},
		{`{"type":"activity","idle_ms":"soon"}`, protocol.CodeBadField},
		{`{"type":"activity","idle_ms":0,"extra":1}`, protocol.CodeUnknownField},
		{`{"type":"hello","token":"x"}`, "duplicate_hello"},
	}
	for _, c := range cases {
		tab.Send(c.raw)
		if f := tab.Expect(protocol.TypeError); f.Code != c.code {
			t.Errorf("%s: error code = %q, want %q", c.raw, f.Code, c.code)
		}
	}
	// Still served: a warning comes on time.
	e.advance(5 * time.Second)
	tab.Expect(protocol.TypeWarn)
}

func TestTooManyBadFramesClose(t *testing.T) {
	e := newEnv(t)
	tab := e.dial(t)
	tab.Hello(e.token("s1"), 0)
	for range maxBadFrames {
		tab.Send(`nope`)
	}
	for range maxBadFrames {
		tab.Expect(protocol.TypeError)
	}
	tab.ExpectClose(protocol.ClosePolicyViolation)
}

func TestFloodIsClosed(t *testing.T) {
	e := newEnv(t)
	tab := e.dial(t)
	tab.Hello(e.token("s1"), 0)
	for range protocol.FrameBurst + 5 {
		// Writes fail once the server has closed the tab; that is the point.
		tab.SendFrame(protocol.ClientFrame{Type: protocol.TypePong})
	}
	var last protocol.ServerFrame
	for {
		f, ok := tab.Next()
		if !ok {
			break
		}
		last = f
	}
	if last.Code != "rate_limited" {
		t.Errorf("last frame = %+v, want error rate_limited", last)
	}
	tab.ExpectClose(protocol.ClosePolicyViolation)
}

// Each violation closes only its own tab, with the code DESIGN.md gives,
// while a tab of another session keeps getting its pushes on time.
func TestViolationsCloseOnlyTheirTab(t *testing.T) {
	e := newEnv(t)
	bystander := e.dial(t)
	bystander.Hello(e.token("other"), 0)

	cases := []struct {
		name   string
		write  func(*testTab) error
		status protocol.CloseCode
	}{
		{"binary frame", func(tt *testTab) error {
			return tt.Conn.Write(context.Background(), websocket.MessageBinary, []byte(`{"type":"pong"}`))
		}, protocol.CloseUnsupportedData},
		{"oversize frame", func(tt *testTab) error {
			return tt.Conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"activity","idle_ms":0,"x":"`+strings.Repeat("a", 8000)+`"}`))
		}, protocol.CloseMessageTooBig},
		{"invalid UTF-8", func(tt *testTab) error {
			return tt.Conn.Write(context.Background(), websocket.MessageText, []byte("{\"type\":\"pong\xff\"}"))
		}, protocol.CloseInvalidPayload},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := e.dial(t)
			tab.Hello(e.token("s1"), 0)
			if err := c.write(tab); err != nil {
				t.Fatal(err)
			}
			tab.ExpectClose(c.status)
		})
	}
	e.advance(5 * time.Second)
	bystander.Expect(protocol.TypeWarn)
}

// A tab that cannot keep up is dropped, when its queue overflows or when
// a write times out; the other tabs of its session get their frames
// regardless.
func TestSlowTabIsDroppedWithoutDelayingOthers(t *testing.T) {
	for _, queue := range []int{4, 1 << 20} {
		t.Run(fmt.Sprintf("queue=%d", queue), func(t *testing.T) { slowTabIsDropped(t, queue) })
	}
}

func slowTabIsDropped(t *testing.T, queue int) {
	e := newEnv(t, func(o *Options) {
		o.SendQueue = queue
		o.WriteTimeout = 300 * time.Millisecond
	})
	// The slow tab says hello and then never reads again.
	ctx, cancel := context.WithTimeout(context.Background(), tabtest.Wait)
	defer cancel()
	slow, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	hello := protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s1")}
	if err := slow.Write(ctx, websocket.MessageText, hello.AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "slow tab joined", func() bool { return e.reg.Sessions() == 1 })
	fast := e.dial(t)
	fast.Hello(e.token("s1"), 0)

	// Send the slow tab (the first to connect) large frames until its
	// socket buffers fill and its queue overflows or a write times out.
	h := e.reg.lookup("s1")
	var slowTab *tab
	h.mu.Lock()
	for _, tt := range h.tabs {
		if slowTab == nil || tt.seq < slowTab.seq {
			slowTab = tt
		}
	}
	h.mu.Unlock()
	big := []byte(`{"type":"state","pad":"` + strings.Repeat("x", 1<<16) + `"}`)
	deadline := time.Now().Add(tabtest.Wait)
	for e.reg.Tabs() == 2 && time.Now().Before(deadline) {
		slowTab.send(big, protocol.TypeState)
		time.Sleep(time.Millisecond)
	}
	eventually(t, "slow tab dropped", func() bool { return e.reg.Tabs() == 1 })

	// The fast tab read every frame and still gets its warning on time.
	e.advance(5 * time.Second)
	fast.Expect(protocol.TypeWarn)
}
