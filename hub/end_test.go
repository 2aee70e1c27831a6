package hub

import (
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
)

func TestPassivePaths(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PassivePaths = []string{"/notifications/poll", "/api/live/*"} })
	a := e.dial(t)
	a.Hello(e.token("s1"), 0)
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
		b.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s1"), Path: c.path})
		st := b.Expect(protocol.TypeState)
		if passive := st.IdleMS > 0; passive != c.passive {
			t.Errorf("hello from %s: idle_ms %d, want passive %v", c.path, st.IdleMS, c.passive)
		}
		b.Conn.CloseNow()
		if !c.passive {
			break // the session is active again; the rest would prove nothing
		}
	}
}
