package clock

import (
	"sync"
	"time"
)

// Clock tells the time and makes tickers. All methods may be called
// concurrently.
type Clock interface {
	Now() time.Time
	NewTicker(d time.Duration) Ticker
}

// Ticker delivers ticks on C until Stop is called, like time.Ticker.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// System returns the clock of the operating system.
func System() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTicker(d time.Duration) Ticker {
	return systemTicker{time.NewTicker(d)}
}

type systemTicker struct{ t *time.Ticker }

func (t systemTicker) C() <-chan time.Time { return t.t.C }
func (t systemTicker) Stop()               { t.t.Stop() }

// Manual is a Clock that moves only when told to. The zero value is not
// usable; call NewManual.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	tickers map[*manualTicker]struct{}
}

var _ Clock = (*Manual)(nil)

// NewManual returns a Manual clock standing at start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start, tickers: make(map[*manualTicker]struct{})}
}

// Now returns the clock's current instant.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Advance moves the clock forward by d and fires every ticker whose next
// tick it crosses. A ticker's channel holds one tick, as time.Ticker's
// does; ticks a slow reader misses are dropped, so a reader must look at
// Now rather than count ticks.
func (m *Manual) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Manual.Advance with a negative duration")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	for t := range m.tickers {
		if t.next.After(m.now) {
			continue
		}
		// Skip every period crossed at once, however far the jump.
		missed := m.now.Sub(t.next)/t.period + 1
		t.next = t.next.Add(missed * t.period)
		select {
		case t.c <- m.now:
		default:
		}
	}
}

// NewTicker returns a ticker that fires every d of manual time.
func (m *Manual) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &manualTicker{m: m, period: d, next: m.now.Add(d), c: make(chan time.Time, 1)}
	m.tickers[t] = struct{}{}
	return t
}

type manualTicker struct {
	m      *Manual
	period time.Duration
	next   time.Time
	c      chan time.Time
}

func (t *manualTicker) C() <-chan time.Time { return t.c }

func (t *manualTicker) Stop() {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	delete(t.m.tickers, t)
}
