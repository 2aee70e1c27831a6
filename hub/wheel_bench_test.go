package hub

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
)

// The benchmarks below compare the wheel with the runtime's timers, one
// time.AfterFunc per entry, at the sizes a presence node holds: 100k and
// 1M live entries, scheduled before the measurement starts. Deadlines lie
// 5 to 10 minutes ahead. A reset moves a random entry to 10 minutes after
// a "now" that grows with every reset, so always later, as activity moves
// a session's warn deadline. The wheel runs on a Manual clock that never
// moves, and the runtime's timers are minutes away, so nothing fires while
// they run: they measure bookkeeping only.

var benchSizes = []struct {
	name string
	n    int
}{
	{"live=100k", 100_000},
	{"live=1M", 1_000_000},
}

const (
	benchNear = 5 * time.Minute
	benchFar  = 10 * time.Minute

	// benchKeep is how many handles the schedule benchmarks make room for
	// up front, so that keeping them rarely grows a slice.
	benchKeep = 1 << 23
)

// benchDelays holds random delays in [0, benchNear) to add to benchNear or
// benchFar; index it with i&(len-1).
var benchDelays = func() []time.Duration {
	rng := rand.New(rand.NewPCG(7, 7))
	d := make([]time.Duration, 1<<12)
	for i := range d {
		d[i] = time.Duration(rng.Int64N(int64(benchNear)))
	}
	return d
}()

func benchDelay(base time.Duration, i int) time.Duration {
	return base + benchDelays[i&(len(benchDelays)-1)]
}

// benchLater returns the delay of the i-th reset: 10 minutes after a now
// that moves 1 µs per reset.
func benchLater(i int) time.Duration {
	return benchFar + time.Duration(i)*time.Microsecond
}

func noop() {}

// benchWheel returns a wheel with the default options holding n timers.
// The caller closes it.
func benchWheel(n int) (*wheel, []*wheelTimer) {
	w := newWheel(wheelOptions{Clock: clock.NewManual(wheelEpoch)})
	timers := make([]*wheelTimer, n)
	for i := range timers {
		timers[i] = w.at(wheelEpoch.Add(benchDelay(benchNear, i*7919)), noop)
	}
	return w, timers
}

// benchTimers returns n runtime timers. The caller stops them.
func benchTimers(n int) []*time.Timer {
	timers := make([]*time.Timer, n)
	for i := range timers {
		timers[i] = time.AfterFunc(benchDelay(benchNear, i*7919), noop)
	}
	return timers
}

func stopTimers(timers []*time.Timer) {
	for _, t := range timers {
		t.Stop()
	}
}

// benchOrder returns a random order in which to visit n timers, so that
// resets touch memory as scattered as a node's sessions are.
func benchOrder(n int) []int32 {
	rng := rand.New(rand.NewPCG(9, 9))
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	return order
}

// BenchmarkWheelAt measures scheduling one more entry on a loaded wheel.
func BenchmarkWheelAt(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			w, _ := benchWheel(size.n)
			made := make([]*wheelTimer, 0, benchKeep)
			// Like BenchmarkAfterFunc, keep every timer made live, and
			// stop them at the end.
			b.Cleanup(func() {
				for _, t := range made {
					t.stop()
				}
				w.close()
			})
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				made = append(made, w.at(wheelEpoch.Add(benchDelay(benchNear, i)), noop))
				i++
			}
		})
	}
}

// BenchmarkAfterFunc measures time.AfterFunc with as many live timers.
func BenchmarkAfterFunc(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			live := benchTimers(size.n)
			made := make([]*time.Timer, 0, benchKeep)
			b.Cleanup(func() {
				stopTimers(live)
				stopTimers(made)
			})
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				made = append(made, time.AfterFunc(benchDelay(benchNear, i), noop))
				i++
			}
		})
	}
}

// BenchmarkWheelReset measures moving a random entry later: the hot path,
// run on every report of activity.
func BenchmarkWheelReset(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			w, timers := benchWheel(size.n)
			b.Cleanup(w.close)
			order := benchOrder(size.n)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				timers[order[i%size.n]].reset(wheelEpoch.Add(benchLater(i)))
				i++
			}
		})
	}
}

// BenchmarkTimerReset measures (*time.Timer).Reset on a random timer among
// as many live ones.
func BenchmarkTimerReset(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			timers := benchTimers(size.n)
			b.Cleanup(func() { stopTimers(timers) })
			order := benchOrder(size.n)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				timers[order[i%size.n]].Reset(benchLater(i))
				i++
			}
		})
	}
}

// BenchmarkWheelResetParallel measures resets from every P at once, which
// contend on the wheel's one mutex. RunParallel calls its function once per
// round of b.N, so the entries are set up outside it, once per size. The
// goroutines share no counter, so now is the time since the start.
func BenchmarkWheelResetParallel(b *testing.B) {
	for _, size := range benchSizes {
		w, timers := benchWheel(size.n)
		b.Run(size.name, func(b *testing.B) {
			var seed atomic.Uint64
			start := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 1))
				for pb.Next() {
					when := wheelEpoch.Add(benchFar + time.Since(start))
					timers[rng.IntN(size.n)].reset(when)
				}
			})
		})
		w.close()
	}
}

// BenchmarkTimerResetParallel is BenchmarkWheelResetParallel for runtime
// timers.
func BenchmarkTimerResetParallel(b *testing.B) {
	for _, size := range benchSizes {
		timers := benchTimers(size.n)
		b.Run(size.name, func(b *testing.B) {
			var seed atomic.Uint64
			start := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 1))
				for pb.Next() {
					timers[rng.IntN(size.n)].Reset(benchFar + time.Since(start))
				}
			})
		})
		stopTimers(timers)
	}
}
