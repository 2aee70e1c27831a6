package hub

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/presence-dev/presence/internal/clock"
)

// The tests in this file hold the wheel under concurrency: callbacks that
// reschedule, stops racing callbacks, many goroutines, the driver and
// close.

func TestWheelCallbacks(t *testing.T) {
	t.Parallel()

	t.Run("reschedules itself", func(t *testing.T) {
		t.Parallel()
		w, _ := newTestWheel(t, wheelOptions{Slots: 16})
		var now time.Time
		var runs []time.Time
		var keepalive *wheelTimer
		keepalive = w.at(atTick(10), func() {
			runs = append(runs, now)
			if keepalive.reset(now.Add(10 * testTick)) {
				t.Error("reset of the running timer = true, want false")
			}
		})
		for now = wheelEpoch; now.Before(atTick(55)); {
			now = now.Add(testTick)
			w.advance(now)
		}
		want := []time.Time{atTick(10), atTick(20), atTick(30), atTick(40), atTick(50)}
		if !slices.EqualFunc(runs, want, time.Time.Equal) {
			t.Errorf("ran at %v, want %v", runs, want)
		}
		if got := w.len(); got != 1 {
			t.Errorf("len = %d, want 1", got)
		}
	})

	t.Run("stops itself", func(t *testing.T) {
		t.Parallel()
		w, _ := newTestWheel(t, wheelOptions{Slots: 16})
		var self *wheelTimer
		stopped := make(chan bool, 1)
		self = w.at(atTick(1), func() { stopped <- self.stop() })
		w.advance(atTick(1))
		if <-stopped {
			t.Error("stop from its own callback = true, want false")
		}
	})

	// A callback that stops or resets a timer collected by the same
	// advance but not yet run must keep the stale callback from running.
	for _, tt := range []struct {
		name   string
		cancel func(b *wheelTimer) bool
		want   []int // what runs at tick 40
	}{
		{"stops a collected timer", (*wheelTimer).stop, nil},
		{"resets a collected timer", func(b *wheelTimer) bool { return b.reset(atTick(40)) }, []int{2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, _ := newTestWheel(t, wheelOptions{Slots: 16})
			var r recorder
			var b *wheelTimer
			w.at(atTick(1), func() {
				r.fn(1)()
				if !tt.cancel(b) {
					t.Error("cancelling a collected timer reported it not pending")
				}
			})
			b = w.at(atTick(2), r.fn(2))
			w.advance(atTick(5)) // collects both, the first first
			if got := r.take(); !slices.Equal(got, []int{1}) {
				t.Fatalf("ran %v, want [1]", got)
			}
			w.advance(atTick(39.9))
			if got := r.take(); len(got) != 0 {
				t.Fatalf("ran %v before tick 40", got)
			}
			w.advance(atTick(40))
			if got := r.take(); !slices.Equal(got, tt.want) {
				t.Fatalf("ran %v at tick 40, want %v", got, tt.want)
			}
		})
	}

	t.Run("schedules a due timer", func(t *testing.T) {
		t.Parallel()
		w, _ := newTestWheel(t, wheelOptions{Slots: 16})
		var r recorder
		w.at(atTick(1), func() { w.at(atTick(1), r.fn(2)) })
		w.advance(atTick(1))
		if got := r.take(); len(got) != 0 {
			t.Fatalf("a timer scheduled by a callback ran in the same advance: %v", got)
		}
		w.advance(atTick(1))
		if got := r.take(); !slices.Equal(got, []int{2}) {
			t.Fatalf("ran %v, want [2]", got)
		}
	})
}

// TestWheelStopRacesCallback stops a timer from another goroutine after
// advance collected it and before its callback ran.
func TestWheelStopRacesCallback(t *testing.T) {
	t.Parallel()
	w, _ := newTestWheel(t, wheelOptions{Slots: 16})
	var r recorder
	started := make(chan struct{})
	proceed := make(chan struct{})
	w.at(atTick(1), func() {
		close(started)
		<-proceed
	})
	b := w.at(atTick(2), r.fn(2))

	done := make(chan struct{})
	go func() {
		defer close(done)
		w.advance(atTick(5))
	}()
	<-started
	if got := w.len(); got != 0 {
		t.Errorf("len = %d while both timers are collected, want 0", got)
	}
	if !b.stop() {
		t.Error("stop of a collected timer = false, want true")
	}
	close(proceed)
	<-done
	if got := r.take(); len(got) != 0 {
		t.Fatalf("stopped timer ran: %v", got)
	}
}

// TestWheelConcurrent schedules, resets and stops timers from many
// goroutines while the wheel's goroutine and a direct caller advance it.
// Run it with -race.
func TestWheelConcurrent(t *testing.T) {
	t.Parallel()
	w, clk := newTestWheel(t, wheelOptions{Slots: 64})

	const workers, perWorker, ops = 8, 50, 2000
	var fired atomic.Int64
	var wg sync.WaitGroup
	stopClock := make(chan struct{})
	var clockDone sync.WaitGroup
	clockDone.Add(2)
	go func() {
		defer clockDone.Done()
		for {
			select {
			case <-stopClock:
				return
			default:
				clk.Advance(testTick)
			}
		}
	}()
	go func() {
		defer clockDone.Done()
		for {
			select {
			case <-stopClock:
				return
			default:
				w.advance(clk.Now())
				_ = w.len()
			}
		}
	}()

	timers := make([][]*wheelTimer, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 5))
			mine := make([]*wheelTimer, 0, perWorker)
			for range ops {
				when := clk.Now().Add(time.Duration(rng.Int64N(int64(200 * testTick))))
				switch {
				case len(mine) < perWorker:
					mine = append(mine, w.at(when, func() { fired.Add(1) }))
				case rng.IntN(3) == 0:
					mine[rng.IntN(len(mine))].stop()
				default:
					// Twice in a row: the first reset may find the timer
					// pending, collected or fired, the second pending.
					tm := mine[rng.IntN(len(mine))]
					tm.reset(when)
					tm.reset(when.Add(testTick))
				}
			}
			timers[g] = mine
		}()
	}
	wg.Wait()
	close(stopClock)
	clockDone.Wait()

	for _, mine := range timers {
		for _, tm := range mine {
			tm.stop()
		}
	}
	if got := w.len(); got != 0 {
		t.Errorf("len = %d after stopping every timer, want 0", got)
	}
	before := fired.Load()
	if before == 0 {
		t.Error("no timer fired")
	}
	w.advance(clk.Now().Add(time.Hour))
	if after := fired.Load(); after != before {
		t.Errorf("%d stopped timers fired", after-before)
	}
}

// TestWheelDriver checks that the wheel's own goroutine fires timers as
// the Manual clock crosses ticks.
func TestWheelDriver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		when  time.Time
		steps int // ticks to advance the clock, one at a time
	}{
		{"next tick", atTick(0.5), 1},
		{"on a tick", atTick(3), 3},
		{"longer than a revolution", atTick(100), 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, clk := newTestWheel(t, wheelOptions{Slots: 16})
			ran := make(chan time.Time, 1)
			w.at(tt.when, func() { ran <- clk.Now() })
			for range tt.steps - 1 {
				clk.Advance(testTick)
			}
			select {
			case at := <-ran:
				t.Fatalf("ran at %v, before its deadline %v", at, tt.when)
			default:
			}
			clk.Advance(testTick)
			select {
			case at := <-ran:
				if at.Before(tt.when) {
					t.Errorf("ran at %v, before its deadline %v", at, tt.when)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the wheel's goroutine did not fire the timer")
			}
		})
	}
}

// TestWheelClose is not parallel: it checks that close leaves no goroutine
// behind.
func TestWheelClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	clk := clock.NewManual(wheelEpoch)
	w := newWheel(wheelOptions{Tick: testTick, Slots: 16, Clock: clk})
	var r recorder
	pending := w.at(atTick(1), r.fn(1))
	w.at(atTick(2), r.fn(2))

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(w.close)
	}
	wg.Wait()
	w.close()

	clk.Advance(10 * testTick)
	w.advance(atTick(10))
	late := w.at(atTick(3), r.fn(3))
	w.advance(atTick(10))
	time.Sleep(10 * time.Millisecond) // give a stray goroutine the chance to run
	if got := r.take(); len(got) != 0 {
		t.Errorf("timers ran after close: %v", got)
	}
	if pending.stop() || late.stop() || late.reset(atTick(4)) {
		t.Error("stop or reset reported a pending timer on a closed wheel")
	}
	if got := w.len(); got != 0 {
		t.Errorf("len = %d after close, want 0", got)
	}
}

// TestWheelCloseDuringAdvance closes the wheel while a direct advance runs
// callbacks: the rest of the batch must not run.
func TestWheelCloseDuringAdvance(t *testing.T) {
	t.Parallel()
	w, _ := newTestWheel(t, wheelOptions{Slots: 16})
	var r recorder
	started := make(chan struct{})
	proceed := make(chan struct{})
	w.at(atTick(1), func() {
		close(started)
		<-proceed
	})
	w.at(atTick(2), r.fn(2))
	go w.advance(atTick(5))
	<-started
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		w.close()
	}()
	select {
	case <-closed:
		t.Fatal("close returned while a callback was running")
	case <-time.After(20 * time.Millisecond):
	}
	close(proceed)
	<-closed
	if got := r.take(); len(got) != 0 {
		t.Fatalf("ran %v after close, want nothing", got)
	}
}

// caughtUp reports whether the wheel has run every callback due at or
// before now: the tests of several nodes in virtual time wait for it
// before they move the clock again.
func (w *wheel) caughtUp(now time.Time) bool {
	w.advMu.Lock()
	defer w.advMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed.Load() || w.next > w.floorTick(now)
}
