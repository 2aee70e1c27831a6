package hub

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// BenchmarkTabStack measures what the goroutine of an idle tab keeps: its
// stack, once the tab said hello, and once it sent activity too. The
// client's connections run no goroutine here (nothing reads them), so
// every stack counted is the server's. Memory of the whole process per
// tab is the load tool's figure (make bench-load).
func BenchmarkTabStack(b *testing.B) {
	for _, c := range []struct {
		frames int
		flush  time.Duration
	}{{0, 0}, {5, 0}, {5, 5 * time.Second}} {
		b.Run(fmt.Sprintf("activity=%d/flush=%v", c.frames, c.flush), func(b *testing.B) {
			const tabs = 1000
			for b.Loop() {
				perTab, goroutines := tabStack(b, tabs, c.frames, c.flush)
				b.ReportMetric(perTab, "stack-B/tab")
				b.ReportMetric(goroutines, "goroutines/tab")
			}
		})
	}
}

func tabStack(b testing.TB, tabs, frames int, flush time.Duration) (stackPerTab, goroutinesPerTab float64) {
	e := newEnv(&testing.T{}, func(o *Options) { o.FlushEvery = flush })
	defer e.store.Close()
	defer e.reg.Close()
	defer e.srv.Close()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws"
	ctx := context.Background()
	before, goroutines := settledStack()
	conns := make([]*websocket.Conn, tabs)
	for i := range conns {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = c
		c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello","token":"`+e.token(fmt.Sprintf("stack-%d", i))+`","idle_ms":0}`))
		if _, _, err := c.Read(ctx); err != nil {
			b.Fatal(err)
		}
		for range frames {
			c.Write(ctx, websocket.MessageText, []byte(`{"type":"activity","idle_ms":0}`))
		}
	}
	tabtest.Eventually(b, "every frame handled", func() bool {
		return testutil.ToFloat64(e.reg.metrics.framesIn.WithLabelValues("activity")) == float64(frames*tabs)
	})
	after, goroutinesAfter := settledStack()
	for _, c := range conns {
		c.CloseNow()
	}
	return float64(after-before) / float64(tabs), float64(goroutinesAfter-goroutines) / float64(tabs)
}

// An idle tab keeps one goroutine, whose stack did not grow with its
// hello's token verification and store call: those ran on a goroutine
// that ended (serveTab's), so the tab's stays at what a parked read needs.
func TestIdleTabKeepsASmallStack(t *testing.T) {
	perTab, goroutines := tabStack(t, 300, 0, 0)
	if goroutines < 0.95 || goroutines > 1.05 { // another test's goroutine may end meanwhile
		t.Errorf("%.2f goroutines per idle tab, want 1", goroutines)
	}
	// About 4 KiB, 8 under the race detector; twice that if the hello's
	// stack stays.
	most := 6 << 10
	if raceDetector {
		most *= 2
	}
	if perTab > float64(most) {
		t.Errorf("%.0f bytes of stack per idle tab, want at most %d: the hello's stack stayed with the tab", perTab, most)
	}
}

// settledStack returns the stack memory in use and the goroutines after
// two collections, which shrink the stacks that can be.
func settledStack() (uint64, int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.StackInuse, runtime.NumGoroutine()
}

// BenchmarkOnFreshStack is what handling a frame on a goroutine of its own
// costs beside calling the handler directly.
func BenchmarkOnFreshStack(b *testing.B) {
	var n int
	work := func() bool { n++; return true }
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			work()
		}
	})
	b.Run("fresh-stack", func(b *testing.B) {
		for b.Loop() {
			onFreshStack(work)
		}
	})
}

// Frames that wait on the store run at most maxFreshStacks at once, each
// on a stack of its own; the others wait on their tab's small stack, so
// that a burst of hellos on a slow store does not grow thousands of
// stacks at once.
func TestFreshStacksAreBounded(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	var running, most atomic.Int64
	work := func() bool {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return true
	}
	const frames = 2 * maxFreshStacks
	var done sync.WaitGroup
	for range frames {
		done.Go(func() { e.reg.onFreshStack(work) })
	}
	eventually(t, "the bound reached", func() bool { return running.Load() == maxFreshStacks })
	time.Sleep(20 * time.Millisecond) // room for any over the bound to start
	if n := most.Load(); n != maxFreshStacks {
		t.Fatalf("%d ran at once, want at most %d", n, maxFreshStacks)
	}
	close(release)
	done.Wait()
	if n := running.Load(); n != 0 {
		t.Fatalf("%d still running", n)
	}
}

// A frame that waits for a stack counts its idle time from its receipt:
// the wait is not activity, or a crowd of frames would push deadlines
// later.
func TestAFrameWaitingForAStackCountsFromItsReceipt(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	var held sync.WaitGroup
	for range maxFreshStacks {
		held.Go(func() { e.reg.onFreshStack(func() bool { <-release; return true }) })
	}
	eventually(t, "every stack taken", func() bool { return len(e.reg.freshStacks) == maxFreshStacks })
	a := e.dial(t)
	received := e.clock.Now()
	a.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: e.token("waits"), IdleMS: 1000})
	eventually(t, "the hello read", func() bool { return testutil.ToFloat64(e.reg.metrics.in[protocol.TypeHello]) == 1 })
	e.advance(3 * time.Second) // the hello waits for a stack meanwhile
	close(release)
	held.Wait()
	if st := a.Expect(protocol.TypeState); st.IdleMS != 4000 {
		t.Errorf("state idle_ms = %d, want 4000: a second before the hello's receipt, 3 s ago", st.IdleMS)
	}
	snap, err := e.store.Check(t.Context(), "waits", session.Limits{})
	if err != nil || !snap.Last.Equal(received.Add(-time.Second)) {
		t.Errorf("stored last activity %v (%v), want %v", snap.Last, err, received.Add(-time.Second))
	}
}
