package httpapi

import (
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// The tests in this file hold DESIGN.md's invariants end to end through
// every surface of one node: WebSocket tabs, the classic ping and the
// server API, on 127.0.0.1, in virtual time.

func TestExpiredSessionIsNeverRevived(t *testing.T) {
	e := newEnv(t)
	oldToken := e.token("s1")
	a := e.dial(t)
	a.Hello(oldToken, 0)
	// Past both deadlines at once (a laptop waking up): expire, no warn.
	e.advance(10 * time.Second)
	a.Expect(protocol.TypeExpire)
	a.ExpectClose(protocol.CloseSessionEnded)

	e.advance(time.Minute)
	for name, tok := range map[string]string{"token minted before expiry": oldToken, "token minted after expiry": e.token("s1")} {
		t.Run("hello with "+name, func(t *testing.T) {
			b := e.dial(t)
			b.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: tok, IdleMS: 0})
			if f := b.Expect(protocol.TypeExpire); f.Reason != protocol.ReasonIdle {
				t.Errorf("expire reason = %q, want idle", f.Reason)
			}
			b.ExpectClose(protocol.CloseSessionEnded)
		})
		t.Run("ping with "+name, func(t *testing.T) {
			for _, q := range []string{"?idleFor=0", "", "?idleFor=-5"} {
				if got := e.ping(t, tok, q); got != `"logout"` {
					t.Errorf("ping%s = %s, want \"logout\"", q, got)
				}
			}
		})
	}
}

func TestLogoutEndsEveryTab(t *testing.T) {
	e := newEnv(t)
	a, b := e.dial(t), e.dial(t)
	a.Hello(e.token("s1"), 0)
	b.Hello(e.token("s1"), 0)
	a.Send(`{"type":"logout"}`)
	for _, tab := range []*testTab{a, b} {
		if f := tab.Expect(protocol.TypeExpire); f.Reason != protocol.ReasonLogout {
			t.Errorf("expire reason = %q, want logout", f.Reason)
		}
		tab.ExpectClose(protocol.CloseSessionEnded)
	}
	if got := e.ping(t, e.token("s1"), ""); got != `"logout"` {
		t.Errorf("ping after logout = %s, want \"logout\"", got)
	}
}

// A session expires by the clock even with no tab connected.
func TestSessionWithoutTabsExpiresByTheClock(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.token("s1"), 0)
	a.Conn.Close(websocket.StatusNormalClosure, "")
	eventually(t, "tab gone", func() bool { return e.reg.Tabs() == 0 })
	e.advance(9 * time.Second)
	if got := e.ping(t, e.token("s1"), "?idleFor=9"); got != "9" {
		t.Fatalf("ping before expiry = %s, want 9", got)
	}
	e.advance(time.Second)
	b := e.dial(t)
	b.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s1")})
	b.Expect(protocol.TypeExpire)
	b.ExpectClose(protocol.CloseSessionEnded)
}

// Every end is reported once, with the user of the tokens, whether the
// session had tabs or was only pinged; a live session is never reported.
func TestEndsReportedOnce(t *testing.T) {
	e := newEnv(t)
	t0 := e.clock.Now()
	withTabs := e.dial(t)
	withTabs.Hello(e.mint(session.Claims{SID: "tabs", UID: "u1"}), 0)
	other := e.dial(t)
	other.Hello(e.token("tabs"), 0)
	if got := e.ping(t, e.mint(session.Claims{SID: "pinged", UID: "u2"}), "?idleFor=2"); got != "2" {
		t.Fatalf("ping = %s", got)
	}
	alive := e.dial(t)
	alive.Hello(e.token("alive"), 0)
	left := e.dial(t)
	left.Hello(e.mint(session.Claims{SID: "left", UID: "u3"}), 0)
	left.Conn.CloseNow()
	eventually(t, "tab gone", func() bool { return e.reg.Tabs() == 3 })

	for i := 1; i <= 9; i++ {
		e.advance(time.Second)
		alive.Activity(0)
		alive.Sync()
		if i == 5 {
			withTabs.Expect(protocol.TypeWarn)
		}
	}
	e.advance(time.Second) // t=10s: every idle session is over
	withTabs.Expect(protocol.TypeExpire)
	eventually(t, "three ends reported", func() bool { return len(e.endsSoFar()) == 3 })
	e.advance(3 * time.Second)
	alive.Activity(0)
	alive.Sync()

	got := map[string]hub.End{}
	for _, end := range e.endsSoFar() {
		if _, dup := got[end.SID]; dup {
			t.Errorf("%s reported twice", end.SID)
		}
		got[end.SID] = end
	}
	for sid, uid := range map[string]string{"tabs": "u1", "pinged": "u2", "left": "u3"} {
		end, ok := got[sid]
		if !ok || end.UID != uid || end.Reason != session.ReasonIdle {
			t.Errorf("end of %s = %+v, want uid %s, reason idle", sid, end, uid)
		}
	}
	if end := got["pinged"]; !end.At.Equal(t0.Add(8 * time.Second)) {
		t.Errorf("pinged ended at %v, want its deadline %v", end.At, t0.Add(8*time.Second))
	}
	if _, ok := got["alive"]; ok {
		t.Error("a live session was reported as ended")
	}
	// Ended sessions leave the node once their tabs have closed.
	eventually(t, "only the live session watched", func() bool { return e.reg.Sessions() == 1 })
}
