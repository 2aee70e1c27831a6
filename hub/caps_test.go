package hub

import (
	"net/http"
	"testing"

	"github.com/presence-dev/presence/protocol"
)

// A tab over a cap is told so and closed with 1013, which the client
// takes as no contact; the others are served, and a closed tab makes
// room again.
func TestTabCaps(t *testing.T) {
	t.Run("node", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.MaxTabs = 2 })
		a, b := e.dial(t), e.dial(t)
		a.Hello(e.token("s1"), 0)
		b.Hello(e.token("s2"), 0)
		c := e.dial(t)
		if f := c.Expect(protocol.TypeError); f.Code != protocol.CodeTooManyTabs {
			t.Errorf("third tab: %+v, want too_many_tabs", f)
		}
		c.ExpectClose(protocol.CloseTryAgainLater)
		a.Conn.CloseNow()
		eventually(t, "room again", func() bool { return e.reg.Tabs() == 1 })
		e.dial(t).Hello(e.token("s3"), 0)
	})
	t.Run("session", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.MaxTabsPerSession = 2 })
		e.dial(t).Hello(e.token("s1"), 0)
		e.dial(t).Hello(e.token("s1"), 0)
		c := e.dial(t)
		c.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("s1")})
		if f := c.Expect(protocol.TypeError); f.Code != protocol.CodeTooManyTabs {
			t.Errorf("third tab of s1: %+v, want too_many_tabs", f)
		}
		c.ExpectClose(protocol.CloseTryAgainLater)
		e.dial(t).Hello(e.token("s2"), 0) // another session is not affected
	})
	t.Run("address", func(t *testing.T) {
		e := newEnv(t, func(o *Options) {
			o.MaxTabsPerAddress = 1
			o.ClientAddress = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
		})
		from := func(addr string) http.Header { return http.Header{"X-Test-Client": {addr}} }
		e.dialWith(t, from("10.0.0.1")).Hello(e.token("s1"), 0)
		c := e.dialWith(t, from("10.0.0.1"))
		if f := c.Expect(protocol.TypeError); f.Code != protocol.CodeTooManyTabs {
			t.Errorf("second tab of one address: %+v, want too_many_tabs", f)
		}
		c.ExpectClose(protocol.CloseTryAgainLater)
		e.dialWith(t, from("10.0.0.2")).Hello(e.token("s2"), 0)
	})
}
