package hub

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
)

var wheelEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const testTick = 100 * time.Millisecond

// newTestWheel returns a wheel on a Manual clock standing at wheelEpoch,
// closed when the test ends. The wheel's goroutine fires nothing unless
// the test advances the clock; most tests call advance directly instead.
func newTestWheel(t *testing.T, opts wheelOptions) (*wheel, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(wheelEpoch)
	if opts.Clock == nil {
		opts.Clock = clk
	}
	if opts.Tick == 0 {
		opts.Tick = testTick
	}
	w := newWheel(opts)
	t.Cleanup(w.close)
	return w, clk
}

// at returns the instant n ticks of testTick after wheelEpoch.
func atTick(n float64) time.Time {
	return wheelEpoch.Add(time.Duration(n * float64(testTick)))
}

// recorder records which callbacks ran, in order.
type recorder struct {
	mu  sync.Mutex
	got []int
}

func (r *recorder) fn(id int) func() {
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, id)
	}
}

// take returns what ran since the last take.
func (r *recorder) take() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

func TestWheelOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  wheelOptions
		tick  time.Duration
		slots int
	}{
		{"zero", wheelOptions{}, 10 * time.Millisecond, 4096},
		{"negative", wheelOptions{Tick: -time.Second, Slots: -3}, 10 * time.Millisecond, 4096},
		{"one slot", wheelOptions{Tick: time.Second, Slots: 1}, time.Second, 1},
		{"round up", wheelOptions{Slots: 3}, 10 * time.Millisecond, 4},
		{"power of two", wheelOptions{Slots: 1024}, 10 * time.Millisecond, 1024},
		{"round up large", wheelOptions{Slots: 5000}, 10 * time.Millisecond, 8192},
		{"capped", wheelOptions{Slots: 1 << 40}, 10 * time.Millisecond, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			if opts.Tick != 0 {
				// Keep the System clock out of tests that set a tick.
				opts.Clock = clock.NewManual(wheelEpoch)
			}
			w := newWheel(opts)
			t.Cleanup(w.close)
			if w.tick != tt.tick {
				t.Errorf("tick = %v, want %v", w.tick, tt.tick)
			}
			if len(w.slots) != tt.slots || w.mask != int64(tt.slots-1) {
				t.Errorf("slots = %d (mask %d), want %d", len(w.slots), w.mask, tt.slots)
			}
		})
	}
}

// TestWheelOrder schedules many timers over several revolutions and checks
// that each runs in deadline order, never before its deadline, and, when
// the wheel advances tick by tick, within one tick after it.
func TestWheelOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		step time.Duration // how far each advance moves
	}{
		{"tick by tick", testTick},
		{"half ticks", testTick / 2},
		{"uneven steps", 370 * time.Millisecond},
		{"one revolution", 64 * testTick},
		{"just over a revolution", 65 * testTick},
		{"one jump", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, _ := newTestWheel(t, wheelOptions{Slots: 64})
			rng := rand.New(rand.NewPCG(1, 2))
			// Steps that divide a tick advance to every tick boundary, so
			// each timer must run less than a tick after its deadline.
			aligned := testTick%tt.step == 0

			const n = 2000
			whens := make([]time.Time, n)
			var now time.Time // the instant given to the running advance
			var fired []int
			for i := range n {
				// Up to 300 ticks: about five revolutions of 64 slots, with
				// some deadlines on tick boundaries and some between.
				whens[i] = wheelEpoch.Add(time.Duration(rng.Int64N(int64(300 * testTick))))
				if i%5 == 0 {
					whens[i] = whens[i].Truncate(testTick)
				}
				w.at(whens[i], func() {
					if now.Before(whens[i]) {
						t.Errorf("timer %d ran at %v, before its deadline %v", i, now, whens[i])
					}
					if aligned && now.Sub(whens[i]) >= testTick {
						t.Errorf("timer %d ran at %v, %v after its deadline", i, now, now.Sub(whens[i]))
					}
					fired = append(fired, i)
				})
			}
			if got := w.len(); got != n {
				t.Fatalf("len = %d, want %d", got, n)
			}
			end := atTick(400).Add(tt.step)
			for now = wheelEpoch; len(fired) < n && now.Before(end); now = now.Add(tt.step) {
				w.advance(now)
			}
			if len(fired) != n {
				t.Fatalf("%d of %d timers ran", len(fired), n)
			}
			ticks := make([]int64, n)
			for k, i := range fired {
				ticks[k] = w.ceilTick(whens[i])
			}
			if !slices.IsSorted(ticks) {
				t.Errorf("timers ran out of deadline order: ticks %v", ticks)
			}
			if got := w.len(); got != 0 {
				t.Errorf("len = %d after all ran, want 0", got)
			}
		})
	}
}

func TestWheelNeverEarly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		slots int
		when  time.Time
	}{
		{"on a tick", 16, atTick(5)},
		{"just after a tick", 16, atTick(5).Add(time.Nanosecond)},
		{"between ticks", 16, atTick(5.5)},
		{"just before a tick", 16, atTick(6).Add(-time.Nanosecond)},
		{"first tick", 16, atTick(0).Add(time.Nanosecond)},
		{"longer than a revolution", 16, atTick(100)},
		{"many revolutions", 16, atTick(1000.25)},
		{"one slot", 1, atTick(7.5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, _ := newTestWheel(t, wheelOptions{Slots: tt.slots})
			var r recorder
			w.at(tt.when, r.fn(1))

			w.advance(tt.when.Add(-time.Nanosecond))
			if got := r.take(); len(got) != 0 {
				t.Fatalf("ran at when-1ns")
			}
			w.advance(tt.when.Add(testTick - time.Nanosecond))
			if got := r.take(); !slices.Equal(got, []int{1}) {
				t.Fatalf("ran %v within one tick after when, want [1]", got)
			}
			w.advance(tt.when.Add(time.Hour))
			if got := r.take(); len(got) != 0 {
				t.Fatalf("ran again: %v", got)
			}
		})
	}
}

// TestWheelPast checks that a deadline already passed runs on the very next
// advance, even one that does not move the clock.
func TestWheelPast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance time.Time // before scheduling
		when    time.Time
	}{
		{"before the first advance", wheelEpoch, wheelEpoch.Add(-time.Hour)},
		{"at the wheel's start", wheelEpoch, wheelEpoch},
		{"behind the last advance", atTick(10), atTick(5)},
		{"within the current tick", atTick(10.5), atTick(10.25)},
		{"equal to the last advance", atTick(10.5), atTick(10.5)},
		{"zero time", atTick(10), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, _ := newTestWheel(t, wheelOptions{Slots: 16})
			var r recorder
			w.advance(tt.advance)
			w.at(tt.when, r.fn(1))
			w.advance(tt.advance)
			if got := r.take(); !slices.Equal(got, []int{1}) {
				t.Fatalf("ran %v on the next advance, want [1]", got)
			}
		})
	}
}

// TestWheelPastOrder checks that deadlines already passed when scheduled
// run in deadline order too.
func TestWheelPastOrder(t *testing.T) {
	t.Parallel()
	w, _ := newTestWheel(t, wheelOptions{Slots: 16})
	var r recorder
	w.advance(atTick(100))
	for _, k := range []int{50, 10, 90, 30, 70} {
		w.at(atTick(float64(k)), r.fn(k))
	}
	w.advance(atTick(100))
	if got, want := r.take(), []int{10, 30, 50, 70, 90}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

func TestWheelReset(t *testing.T) {
	t.Parallel()
	fire := func(w *wheel, _ *wheelTimer) { w.advance(atTick(10)) }
	stop := func(_ *wheel, tm *wheelTimer) { tm.stop() }
	tests := []struct {
		name        string
		before      func(w *wheel, tm *wheelTimer) // runs before reset
		reset       float64                        // new deadline, in ticks
		wantPending bool
	}{
		{"later", nil, 20, true},
		{"earlier", nil, 3, true},
		{"same deadline", nil, 10, true},
		{"between ticks", nil, 12.5, true},
		{"into another revolution", nil, 10 + 16*3, true},
		{"after firing", fire, 30, false},
		{"after stop", stop, 12, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, _ := newTestWheel(t, wheelOptions{Slots: 16})
			var r recorder
			tm := w.at(atTick(10), r.fn(1))
			if tt.before != nil {
				tt.before(w, tm)
				r.take()
			}
			when := atTick(tt.reset)
			if got := tm.reset(when); got != tt.wantPending {
				t.Errorf("reset = %v, want %v", got, tt.wantPending)
			}
			if got := w.len(); got != 1 {
				t.Errorf("len = %d after reset, want 1", got)
			}
			w.advance(when.Add(-time.Nanosecond))
			if got := r.take(); len(got) != 0 {
				t.Fatalf("ran %v before the new deadline", got)
			}
			w.advance(when.Add(testTick - time.Nanosecond))
			if got := r.take(); !slices.Equal(got, []int{1}) {
				t.Fatalf("ran %v by the new deadline, want [1]", got)
			}
			w.advance(atTick(1000))
			if got := r.take(); len(got) != 0 {
				t.Fatalf("ran again: %v", got)
			}
		})
	}
}

// TestWheelModel runs random schedules, resets, stops and advances,
// small steps and jumps past a revolution, against a model of deadlines:
// every advance must run exactly the timers due by then, in deadline order.
func TestWheelModel(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			w, _ := newTestWheel(t, wheelOptions{Slots: 16})
			rng := rand.New(rand.NewPCG(seed, 6))

			const n = 100
			timers := make([]*wheelTimer, n)
			want := make(map[int]int64) // pending timer -> deadline tick
			var fired []int
			var firedTicks []int64 // the model's deadline of each, as it ran
			now := wheelEpoch
			future := func() (time.Time, int64) {
				// 1 to 60 ticks ahead, on or between ticks.
				when := now.Add(time.Duration(1 + rng.Int64N(int64(60*testTick))))
				return when, w.ceilTick(when)
			}
			for i := range n {
				when, tick := future()
				timers[i] = w.at(when, func() {
					fired = append(fired, i)
					firedTicks = append(firedTicks, want[i])
				})
				want[i] = tick
			}
			for range 300 {
				for range rng.IntN(20) {
					i := rng.IntN(n)
					_, pending := want[i]
					switch rng.IntN(4) {
					case 0:
						if got := timers[i].stop(); got != pending {
							t.Fatalf("stop = %v, want %v", got, pending)
						}
						delete(want, i)
					default:
						when, tick := future()
						if got := timers[i].reset(when); got != pending {
							t.Fatalf("reset = %v, want %v", got, pending)
						}
						want[i] = tick
					}
				}
				step := time.Duration(rng.Int64N(int64(4 * testTick)))
				if rng.IntN(10) == 0 {
					step = time.Duration(rng.Int64N(int64(80 * testTick)))
				}
				now = now.Add(step)
				target := w.floorTick(now)
				w.advance(now)

				var wantFired []int
				for i, tick := range want {
					if tick <= target {
						wantFired = append(wantFired, i)
						delete(want, i)
					}
				}
				slices.Sort(wantFired)
				got := slices.Sorted(slices.Values(fired))
				if !slices.Equal(got, wantFired) {
					t.Fatalf("advance to tick %d ran %v, want %v", target, got, wantFired)
				}
				if !slices.IsSorted(firedTicks) {
					t.Fatalf("ran out of deadline order: ticks %v", firedTicks)
				}
				fired, firedTicks = fired[:0], firedTicks[:0]
				if got := w.len(); got != len(want) {
					t.Fatalf("len = %d, want %d", got, len(want))
				}
			}
		})
	}
}

func TestWheelStop(t *testing.T) {
	t.Parallel()
	w, _ := newTestWheel(t, wheelOptions{Slots: 16})
	var r recorder

	a := w.at(atTick(5), r.fn(1))
	b := w.at(atTick(5), r.fn(2))
	c := w.at(atTick(50), r.fn(3)) // later round of a's slot's neighbour
	if !a.stop() {
		t.Error("stop of a pending timer = false, want true")
	}
	if a.stop() {
		t.Error("second stop = true, want false")
	}
	if got := w.len(); got != 2 {
		t.Errorf("len = %d, want 2", got)
	}
	w.advance(atTick(5))
	if got := r.take(); !slices.Equal(got, []int{2}) {
		t.Fatalf("ran %v, want [2]", got)
	}
	if b.stop() {
		t.Error("stop after firing = true, want false")
	}
	if !c.stop() {
		t.Error("stop of a timer due in a later round = false, want true")
	}
	w.advance(atTick(1000))
	if got := r.take(); len(got) != 0 {
		t.Fatalf("stopped timers ran: %v", got)
	}
	if got := w.len(); got != 0 {
		t.Errorf("len = %d, want 0", got)
	}
}

// TestWheelRounds puts timers of different rounds into one slot and checks
// that each waits for its own round.
func TestWheelRounds(t *testing.T) {
	t.Parallel()
	w, _ := newTestWheel(t, wheelOptions{Slots: 16})
	var r recorder
	rounds := []int{3, 19, 35, 51, 99 * 16} // all slot 3
	for i, k := range slices.Backward(rounds) {
		w.at(atTick(float64(k)), r.fn(i))
	}
	want := len(rounds)
	for k := 1; k <= rounds[len(rounds)-1]; k++ {
		w.advance(atTick(float64(k)))
		got := r.take()
		i := slices.Index(rounds, k)
		if i < 0 {
			if len(got) != 0 {
				t.Fatalf("tick %d: ran %v, want nothing", k, got)
			}
			continue
		}
		want--
		if !slices.Equal(got, []int{i}) {
			t.Fatalf("tick %d: ran %v, want [%d]", k, got, i)
		}
		if n := w.len(); n != want {
			t.Fatalf("tick %d: len = %d, want %d", k, n, want)
		}
	}
}

// TestWheelHugeJump moves the clock by decades in one advance: every timer
// must run in deadline order, and advance must not walk every tick (which
// would take hours at 100 ms a tick).
func TestWheelHugeJump(t *testing.T) {
	t.Parallel()
	w, _ := newTestWheel(t, wheelOptions{Slots: 16})
	rng := rand.New(rand.NewPCG(3, 4))

	const n = 1000
	var fired []int64
	for range n {
		tick := rng.Int64N(1_000_000)
		w.at(atTick(float64(tick)), func() { fired = append(fired, tick) })
	}
	far := w.at(wheelEpoch.AddDate(90, 0, 0), func() { fired = append(fired, -1) })

	start := time.Now()
	w.advance(wheelEpoch.AddDate(50, 0, 0))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("advance over 50 years took %v", d)
	}
	if len(fired) != n {
		t.Fatalf("%d of %d timers ran", len(fired), n)
	}
	if !slices.IsSorted(fired) {
		t.Error("timers ran out of deadline order")
	}
	if !far.stop() {
		t.Error("a timer 90 years away ran or was lost after a 50-year jump")
	}
}

// TestWheelOddTimes checks that extreme instants neither panic nor get
// lost.
func TestWheelOddTimes(t *testing.T) {
	t.Parallel()
	w, _ := newTestWheel(t, wheelOptions{Slots: 16})
	var r recorder

	w.at(time.Time{}, r.fn(1))
	w.at(wheelEpoch.AddDate(-500, 0, 0), r.fn(2))
	w.at(wheelEpoch.AddDate(1000, 0, 0), r.fn(3))
	w.at(time.Unix(1<<62, 0), r.fn(4))
	w.at(atTick(1), nil)

	w.advance(time.Time{}) // backwards: only what was already due runs
	if got := r.take(); !slices.Equal(got, []int{1, 2}) && !slices.Equal(got, []int{2, 1}) {
		t.Fatalf("ran %v, want 1 and 2", got)
	}
	w.advance(atTick(1)) // the nil callback
	w.advance(wheelEpoch.AddDate(50, 0, 0))
	if got := r.take(); len(got) != 0 {
		t.Fatalf("far-future timers ran after 50 years: %v", got)
	}
	// Deadlines past the wheel's horizon of 100 years are held there.
	w.advance(time.Unix(1<<62, 0))
	if got := r.take(); len(got) != 2 {
		t.Fatalf("ran %v at the end of time, want 3 and 4", got)
	}
	// Once the clock has passed the horizon, any new deadline is due.
	w.at(time.Unix(1<<62, 1), r.fn(5))
	w.advance(time.Unix(1<<62, 0))
	if got := r.take(); !slices.Equal(got, []int{5}) {
		t.Fatalf("ran %v past the horizon, want [5]", got)
	}
	if got := w.len(); got != 0 {
		t.Fatalf("len = %d, want 0", got)
	}
}
