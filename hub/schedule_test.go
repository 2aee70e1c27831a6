package hub

import (
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
)

// Activity moves a hub's deadline later without a call of the wheel,
// whose lock every tab shares: the entry stays where it was set, and when
// it fires it moves on to the deadline, with no check of the store and no
// frame, so that the warning still comes on time.
func TestActivityLeavesTheWheelEntryAlone(t *testing.T) {
	e := newEnv(t)
	a := e.dial(t)
	a.Hello(e.token("lazy"), 0)
	h := e.reg.lookup("lazy")
	e.advance(time.Second)
	a.Activity(0)
	a.Sync()
	h.mu.Lock()
	armed, deadline := h.armed, h.deadline.UnixNano()
	h.mu.Unlock()
	if armed == 0 || armed >= deadline {
		t.Fatalf("entry set for %d, deadline %d: want the entry left at the earlier deadline", armed, deadline)
	}
	e.advance(testLimits.WarnAfter - 500*time.Millisecond) // past the entry, before the deadline
	eventually(t, "the entry moved on to the deadline", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.armed == deadline
	})
	a.ExpectNothing()
	e.advance(time.Second)
	a.Expect(protocol.TypeWarn)
}
