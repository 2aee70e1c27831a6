package hub

import (
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// Every end is reported once, with the user of the tokens, whether the
// session had tabs or was only pinged; a live session is never reported.
func TestEndsReportedOnce(t *testing.T) {
	e := newEnv(t)
	t0 := e.clock.Now()
	withTabs := e.dial(t)
	withTabs.hello(e.mint(session.Claims{SID: "tabs", UID: "u1"}), 0)
	other := e.dial(t)
	other.hello(e.token("tabs"), 0)
	if got := e.ping(t, e.mint(session.Claims{SID: "pinged", UID: "u2"}), "?idleFor=2"); got != "2" {
		t.Fatalf("ping = %s", got)
	}
	alive := e.dial(t)
	alive.hello(e.token("alive"), 0)
	left := e.dial(t)
	left.hello(e.mint(session.Claims{SID: "left", UID: "u3"}), 0)
	left.conn.CloseNow()
	eventually(t, "tab gone", func() bool { return e.reg.Tabs() == 3 })

	for i := 1; i <= 9; i++ {
		e.advance(time.Second)
		alive.activity(0)
		alive.sync()
		if i == 5 {
			withTabs.expect(protocol.TypeWarn)
		}
	}
	e.advance(time.Second) // t=10s: every idle session is over
	withTabs.expect(protocol.TypeExpire)
	eventually(t, "three ends reported", func() bool { return len(e.endsSoFar()) == 3 })
	e.advance(3 * time.Second)
	alive.activity(0)
	alive.sync()

	got := map[string]End{}
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

func TestPassivePaths(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PassivePaths = []string{"/notifications/poll", "/api/live/*"} })
	a := e.dial(t)
	a.hello(e.token("s1"), 0)
	e.advance(4 * time.Second)
	for _, c := range []struct {
		path    string
		passive bool
	}{
		{"/api/live/feed", true},
		{"/api/live/", true},
		{"/notifications/poll", true},
		{"/notifications/poll/x", false},
		{"/api/liveness", false},
		{"/", false},
	} {
		b := e.dial(t)
		b.sendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s1"), Path: c.path})
		st := b.expect(protocol.TypeState)
		if passive := st.IdleMS > 0; passive != c.passive {
			t.Errorf("hello from %s: idle_ms %d, want passive %v", c.path, st.IdleMS, c.passive)
		}
		b.conn.CloseNow()
		if !c.passive {
			break // the session is active again; the rest would prove nothing
		}
	}
}
