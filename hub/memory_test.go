package hub

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/presence-dev/presence/internal/tabtest"
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

func tabStack(b *testing.B, tabs, frames int, flush time.Duration) (stackPerTab, goroutinesPerTab float64) {
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
