package hub

import (
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
)

// A connection that a browser's tabs share says how many tabs it speaks
// for; each tabs frame is answered with the session's state, and the API
// counts tabs and sockets apart.
func TestSharedConnectionCountsItsTabs(t *testing.T) {
	e := newEnv(t)
	shared := e.dial(t)
	shared.Hello(e.token("s1"), 0)
	own := e.dial(t)
	own.Hello(e.token("s1"), 0)

	e.advance(3 * time.Second)
	shared.SendFrame(protocol.ClientFrame{Type: protocol.TypeTabs, Tabs: 4})
	st := shared.Expect(protocol.TypeState)
	if st.Status != protocol.StatusActive || st.IdleMS != 3000 || st.ExpireInMS != testLimits.ExpireAfter.Milliseconds()-3000 {
		t.Errorf("state after tabs = %+v, want active, idle 3 s", st)
	}
	eventually(t, "5 tabs on 2 sockets", func() bool {
		s := e.lookup(t, "s1")
		return s.Tabs == 5 && s.Sockets == 2
	})

	shared.SendFrame(protocol.ClientFrame{Type: protocol.TypeTabs, Tabs: 2})
	shared.Expect(protocol.TypeState)
	if s := e.lookup(t, "s1"); s.Tabs != 3 || s.Sockets != 2 {
		t.Errorf("after the count fell: %d tabs on %d sockets, want 3 on 2", s.Tabs, s.Sockets)
	}
	own.ExpectNothing() // the other connection hears nothing of it
}

// A tabs frame that is not a count from 1 to MaxSharedTabs is refused with
// an error frame, and the connection and its count stay as they were.
func TestBadTabsFrameIsContained(t *testing.T) {
	e := newEnv(t)
	c := e.dial(t)
	c.Hello(e.token("s1"), 0)
	for _, raw := range []string{`{"type":"tabs"}`, `{"type":"tabs","tabs":0}`, `{"type":"tabs","tabs":1001}`, `{"type":"tabs","tabs":"3"}`} {
		c.Send(raw)
		if f := c.Expect(protocol.TypeError); f.Code != protocol.CodeBadField {
			t.Errorf("%s: error %q, want %q", raw, f.Code, protocol.CodeBadField)
		}
	}
	c.Activity(0)
	c.Sync()
	if _, closed := c.Closed(); closed {
		t.Fatal("bad tabs frames closed the connection")
	}
	if s := e.lookup(t, "s1"); s.Tabs != 1 || s.Sockets != 1 {
		t.Errorf("%d tabs on %d sockets, want 1 on 1", s.Tabs, s.Sockets)
	}
}

// A tabs frame before hello is refused like any frame before it.
func TestTabsFrameBeforeHello(t *testing.T) {
	e := newEnv(t)
	c := e.dial(t)
	c.SendFrame(protocol.ClientFrame{Type: protocol.TypeTabs, Tabs: 2})
	if f := c.Expect(protocol.TypeError); f.Code != protocol.CodeHelloRequired {
		t.Errorf("error %q, want %q", f.Code, protocol.CodeHelloRequired)
	}
	c.ExpectClose(protocol.ClosePolicyViolation)
}

// A tab that joins a shared connection counts as its hello would: its
// activity moves the session, unless its page is passive, by the client's
// word or by PassivePaths.
func TestJoinCountsAsItsHelloWould(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PassivePaths = []string{"/live/*"} })
	c := e.dial(t)
	c.Hello(e.token("s1"), 0)
	c.SendFrame(protocol.ClientFrame{Type: protocol.TypeTabs, Tabs: 3})
	c.Expect(protocol.TypeState)

	e.advance(3 * time.Second)
	c.SendFrame(protocol.ClientFrame{Type: protocol.TypeJoin, IdleMS: 0, Path: "/live/board", Passive: false})
	c.SendFrame(protocol.ClientFrame{Type: protocol.TypeJoin, IdleMS: 0, Path: "/records", Passive: true})
	c.Sync()
	if s := e.lookup(t, "s1"); s.Idle != 3*time.Second {
		t.Errorf("after passive joins, idle %v, want 3s", s.Idle)
	}
	c.SendFrame(protocol.ClientFrame{Type: protocol.TypeJoin, IdleMS: 2000, Path: "/records"})
	c.Sync()
	if s := e.lookup(t, "s1"); s.Idle != 2*time.Second {
		t.Errorf("after a join idle 2 s, idle %v", s.Idle)
	}
}

// A connection that tabs share may send their frames: a burst of
// FrameBurst for each tab, up to MaxSharedAllowance tabs, where a
// connection of one tab is closed past FrameBurst.
func TestSharedConnectionCarriesItsTabsFrames(t *testing.T) {
	e := newEnv(t)
	c := e.dial(t)
	c.Hello(e.token("s1"), 0)
	c.SendFrame(protocol.ClientFrame{Type: protocol.TypeTabs, Tabs: 3})
	c.Expect(protocol.TypeState)
	for range 3*protocol.FrameBurst - 5 {
		c.SendFrame(protocol.ClientFrame{Type: protocol.TypePong})
	}
	c.Sync()
	if _, closed := c.Closed(); closed {
		t.Fatal("a connection of 3 tabs was closed within 3 tabs' burst")
	}
	for _, f := range c.Received() {
		if f.Type == protocol.TypeError {
			t.Fatalf("error %+v within 3 tabs' burst", f)
		}
	}
}
