package tabtest

import (
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
)

// Next returns the next frame other than ping, and false once the
// connection has closed with no frame left.
func (tt *Tab) Next() (protocol.ServerFrame, bool) {
	tt.t.Helper()
	timeout := time.After(Wait)
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
			tt.t.Fatalf("no frame within %s", Wait)
		}
	}
}

// Expect returns the next frame other than ping, which must be of type
// typ.
func (tt *Tab) Expect(typ protocol.Type) protocol.ServerFrame {
	tt.t.Helper()
	f, ok := tt.Next()
	if !ok {
		tt.t.Fatalf("connection closed (status %d) while waiting for %q", tt.status, typ)
	}
	if f.Type != typ {
		tt.t.Fatalf("got frame %+v, want type %q", f, typ)
	}
	return f
}

// ExpectWithin waits for a frame of type typ and returns it with the time
// it took to come, failing the test if that was longer than d.
func (tt *Tab) ExpectWithin(typ protocol.Type, d time.Duration) (protocol.ServerFrame, time.Duration) {
	tt.t.Helper()
	start := time.Now()
	f := tt.Expect(typ)
	took := time.Since(start)
	if took > d {
		tt.t.Errorf("%s came after %s, want within %s", typ, took.Round(time.Millisecond), d)
	}
	return f, took
}

// ExpectNothing fails if a frame other than ping arrives within Quiet.
func (tt *Tab) ExpectNothing() {
	tt.t.Helper()
	timeout := time.After(Quiet)
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

// Received returns the frames that came and were not read yet, pings
// included, without waiting.
func (tt *Tab) Received() []protocol.ServerFrame {
	var got []protocol.ServerFrame
	for {
		select {
		case f := <-tt.frames:
			got = append(got, f)
		default:
			return got
		}
	}
}

// ExpectClose waits for the server to close the connection with code, or
// to drop it when code is Dropped.
func (tt *Tab) ExpectClose(code protocol.CloseCode) {
	tt.t.Helper()
	select {
	case <-tt.done:
	case <-time.After(Wait):
		tt.t.Fatalf("connection still open after %s, want close %d", Wait, code)
	}
	if protocol.CloseCode(tt.status) != code {
		tt.t.Fatalf("closed with status %d, want %d", tt.status, code)
	}
}

// Closed reports whether the connection has ended, and with which code.
func (tt *Tab) Closed() (protocol.CloseCode, bool) {
	select {
	case <-tt.done:
		return protocol.CloseCode(tt.status), true
	default:
		return 0, false
	}
}

// Eventually polls cond until it holds, failing the test after Wait.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after %s", what, Wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
