package clock

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// tick returns the tick waiting on tk, if any, without blocking. A Manual
// clock sends ticks inside Advance, so there is nothing to wait for.
func tick(t *testing.T, tk Ticker) (time.Time, bool) {
	t.Helper()
	select {
	case at := <-tk.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestClockManualNow(t *testing.T) {
	t.Parallel()
	m := NewManual(epoch)
	if got := m.Now(); !got.Equal(epoch) {
		t.Fatalf("Now = %v, want %v", got, epoch)
	}
	steps := []time.Duration{0, time.Nanosecond, time.Second, 90 * time.Minute, 48 * time.Hour}
	want := epoch
	for _, d := range steps {
		m.Advance(d)
		want = want.Add(d)
		if got := m.Now(); !got.Equal(want) {
			t.Fatalf("after Advance(%v): Now = %v, want %v", d, got, want)
		}
	}
}

func TestClockManualAdvanceNegative(t *testing.T) {
	t.Parallel()
	m := NewManual(epoch)
	defer func() {
		if recover() == nil {
			t.Error("Advance(-1) did not panic")
		}
		if got := m.Now(); !got.Equal(epoch) {
			t.Errorf("Now = %v after a refused Advance, want %v", got, epoch)
		}
	}()
	m.Advance(-1)
}

func TestClockManualNewTickerNonPositive(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewTicker(%v) did not panic", d)
				}
			}()
			NewManual(epoch).NewTicker(d)
		}()
	}
}

func TestClockManualTicker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance time.Duration
		want    bool          // a tick arrives
		wantNow time.Duration // the tick carries epoch+wantNow
	}{
		{"before the period", 9 * time.Second, false, 0},
		{"at the period", time.Second, true, 10 * time.Second},
		{"not again within it", 9 * time.Second, false, 0},
		{"next period", time.Second, true, 20 * time.Second},
		{"two and a half periods at once", 25 * time.Second, true, 45 * time.Second},
		{"missed periods are not replayed", 4 * time.Second, false, 0},
		{"on the next one after", time.Second, true, 50 * time.Second},
		{"a zero advance", 0, false, 0},
	}
	m := NewManual(epoch)
	tk := m.NewTicker(10 * time.Second)
	defer tk.Stop()
	for _, tt := range tests {
		m.Advance(tt.advance)
		at, ok := tick(t, tk)
		if ok != tt.want {
			t.Fatalf("%s: tick = %v, want %v", tt.name, ok, tt.want)
		}
		if ok && !at.Equal(epoch.Add(tt.wantNow)) {
			t.Fatalf("%s: tick carries %v, want %v", tt.name, at, epoch.Add(tt.wantNow))
		}
	}
}

func TestClockManualTickers(t *testing.T) {
	t.Parallel()
	m := NewManual(epoch)
	fast := m.NewTicker(time.Second)
	slow := m.NewTicker(3 * time.Second)
	defer fast.Stop()
	defer slow.Stop()
	var fastN, slowN int
	for range 9 {
		m.Advance(time.Second)
		if _, ok := tick(t, fast); ok {
			fastN++
		}
		if _, ok := tick(t, slow); ok {
			slowN++
		}
	}
	if fastN != 9 || slowN != 3 {
		t.Fatalf("ticks: fast %d, slow %d; want 9 and 3", fastN, slowN)
	}
}

// TestManualSlowReader checks that a reader that does not keep up gets the
// oldest tick it missed and loses the rest, as with time.Ticker.
func TestClockManualSlowReader(t *testing.T) {
	t.Parallel()
	m := NewManual(epoch)
	tk := m.NewTicker(time.Second)
	defer tk.Stop()
	for range 5 {
		m.Advance(time.Second)
	}
	at, ok := tick(t, tk)
	if !ok || !at.Equal(epoch.Add(time.Second)) {
		t.Fatalf("tick = %v, %v; want the first, %v", at, ok, epoch.Add(time.Second))
	}
	if _, ok := tick(t, tk); ok {
		t.Fatal("a second tick was buffered")
	}
	// The reader catches up through Now, and the ticker keeps its phase.
	if got := m.Now(); !got.Equal(epoch.Add(5 * time.Second)) {
		t.Fatalf("Now = %v", got)
	}
	m.Advance(time.Second)
	if at, ok := tick(t, tk); !ok || !at.Equal(epoch.Add(6*time.Second)) {
		t.Fatalf("tick = %v, %v; want %v", at, ok, epoch.Add(6*time.Second))
	}
}

func TestClockManualStop(t *testing.T) {
	t.Parallel()
	m := NewManual(epoch)
	stopped := m.NewTicker(time.Second)
	kept := m.NewTicker(time.Second)
	defer kept.Stop()
	stopped.Stop()
	stopped.Stop() // idempotent
	m.Advance(time.Second)
	if _, ok := tick(t, stopped); ok {
		t.Error("a stopped ticker ticked")
	}
	if _, ok := tick(t, kept); !ok {
		t.Error("stopping one ticker stopped another")
	}
}

// TestManualConcurrent uses one Manual clock from many goroutines; run it
// with -race.
func TestClockManualConcurrent(t *testing.T) {
	t.Parallel()
	m := NewManual(epoch)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				m.Advance(time.Millisecond)
				_ = m.Now()
			}
		})
		wg.Go(func() {
			for range 200 {
				tk := m.NewTicker(time.Millisecond)
				select {
				case <-tk.C():
				default:
				}
				tk.Stop()
			}
		})
	}
	wg.Wait()
	if got, want := m.Now(), epoch.Add(800*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}

func TestClockSystem(t *testing.T) {
	t.Parallel()
	c := System()
	before := time.Now()
	now := c.Now()
	if now.Before(before) {
		t.Fatalf("Now = %v, before time.Now() = %v", now, before)
	}
	tk := c.NewTicker(time.Millisecond)
	defer tk.Stop()
	select {
	case at := <-tk.C():
		if at.Before(now) {
			t.Errorf("tick at %v, before %v", at, now)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the system ticker did not tick")
	}
}
