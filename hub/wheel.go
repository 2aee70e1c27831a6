package hub

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presence-dev/presence/internal/clock"
)

const (
	defaultWheelTick  = 10 * time.Millisecond
	defaultWheelSlots = 4096
	maxWheelSlots     = 1 << 20

	// maxWheelDelay bounds how far from the wheel's start a deadline may
	// lie. Later deadlines are treated as this far away, which keeps tick
	// arithmetic clear of overflow; no session lasts a century.
	maxWheelDelay = 100 * 365 * 24 * time.Hour

	// maxKeptBatch is the largest batch buffer advance keeps for reuse; a
	// larger one, left by a big jump of the clock, is released.
	maxKeptBatch = 4096
)

// wheelOptions configures a wheel. Every field may be left zero.
type wheelOptions struct {
	// Tick is the wheel's resolution: a timer fires at most about one Tick
	// after its deadline. Zero or negative means 10 ms.
	Tick time.Duration

	// Slots is the number of slots per revolution, rounded up to a power
	// of two and capped at 1<<20. Deadlines further away than one
	// revolution are fine; they wait in their slot for their round. Zero
	// or negative means 4096 (about 41 seconds at 10 ms).
	Slots int

	// Clock drives the wheel. Nil means clock.System().
	Clock clock.Clock
}

// wheel is a hashed timer wheel with rounds. It holds the deadlines of one
// presence node: one entry per live session and one per connected tab, so
// hundreds of thousands of them, most of which move later over and over
// and never fire. Scheduling, rescheduling and stopping are O(1), and
// reset and stop never allocate. Unlike one time.Timer per entry, the
// wheel follows an injectable clock, so tests run in virtual time, and
// runs every callback on one goroutine in deadline order.
//
// Time is cut into ticks of opts.Tick counted from the wheel's start; a
// timer due at deadline when is scheduled into slot tick%slots, where tick
// is when rounded up to a whole tick, in an intrusive doubly linked list.
// One goroutine, started by newWheel, calls advance on every tick of the
// clock.
//
// Moving a timer later, the hot path, only rewrites its tick: the timer
// stays in the slot it is in, which advance visits no later than the new
// tick, and advance moves it to its own slot then. A reset so costs one
// touch of the timer's memory rather than of its two neighbours and of a
// slot too, which matters once a million timers no longer fit in a cache.
// The invariant: a timer in a slot has a tick no earlier than the first
// visit of that slot at or after w.next.
//
// All methods may be called concurrently. Callbacks run one at a time on
// the goroutine that calls advance, normally the wheel's own, and must not
// block: a slow callback delays every other deadline of the node. They run
// with no lock of the wheel held, so a callback may take a lock under which
// other code calls the wheel, and may call at, reset and stop, on its own
// timer too; it must not call advance or close.
type wheel struct {
	tick   time.Duration
	mask   int64 // slots-1
	origin time.Time
	clock  clock.Clock

	advMu sync.Mutex    // serializes advance, so batches run in order
	batch []wheelFiring // advance's reused buffer; guarded by advMu

	mu     sync.Mutex
	slots  []*wheelTimer
	due    *wheelTimer // timers whose deadline had passed when scheduled
	next   int64       // first tick not collected yet
	last   time.Time   // latest instant given to advance
	n      int         // timers linked into slots or due
	closed atomic.Bool // set under mu; read by advance without it

	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// wheelTimer is one entry of a wheel, made by wheel.at. It may be reset
// and stopped any number of times.
type wheelTimer struct {
	w *wheel
	f func()

	// tick is the deadline in ticks from w.origin, rounded up. The slot
	// holding t may be that of an earlier tick; see the wheel's doc.
	tick int64

	// prev and next link the timer into the list *list, one of w.slots or
	// w.due; list is nil while the timer is not linked.
	prev, next *wheelTimer
	list       **wheelTimer

	// gen counts the timer's schedulings. armed holds the gen of a
	// scheduling that advance collected and whose callback has not started
	// yet, or 0. Both change under w.mu; advance clears armed with a
	// compare-and-swap just before it calls f, so stop and reset, which
	// swap it to 0, cancel a collected callback exactly when it has not
	// started.
	gen   uint64
	armed atomic.Uint64
}

// wheelFiring is a collected timer waiting for its callback to run.
type wheelFiring struct {
	t    *wheelTimer
	gen  uint64
	tick int64
}

// newWheel returns a wheel that starts at the clock's current instant and
// starts the goroutine that drives it. Call close to stop it.
func newWheel(opts wheelOptions) *wheel {
	if opts.Tick <= 0 {
		opts.Tick = defaultWheelTick
	}
	if opts.Slots <= 0 {
		opts.Slots = defaultWheelSlots
	}
	if opts.Slots > maxWheelSlots {
		opts.Slots = maxWheelSlots
	}
	slots := 1 << bits.Len(uint(opts.Slots-1))
	if opts.Clock == nil {
		opts.Clock = clock.System()
	}

	now := opts.Clock.Now()
	w := &wheel{
		tick:   opts.Tick,
		mask:   int64(slots - 1),
		origin: now,
		clock:  opts.Clock,
		slots:  make([]*wheelTimer, slots),
		next:   1, // tick 0 is the wheel's start, already past
		last:   now,
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	// The ticker is made before newWheel returns, so that a test that
	// advances a Manual clock right away is seen by the driver.
	go w.run(opts.Clock.NewTicker(opts.Tick))
	return w
}

func (w *wheel) run(tk clock.Ticker) {
	defer close(w.done)
	defer tk.Stop()
	for {
		select {
		case <-w.quit:
			return
		case <-tk.C():
			w.advance(w.clock.Now())
		}
	}
}

// at schedules f to run once the clock reaches when, and returns the
// timer with which to reset or stop it. A when already passed makes f run
// on the next advance, which may happen before at returns: a callback that
// needs its own timer must not rely on a variable assigned from at's
// result without synchronization. On a closed wheel at returns a timer that never fires.
// A nil f is allowed and does nothing.
func (w *wheel) at(when time.Time, f func()) *wheelTimer {
	if f == nil {
		f = func() {}
	}
	t := &wheelTimer{w: w, f: f}
	w.mu.Lock()
	w.schedule(t, when)
	w.mu.Unlock()
	return t
}

// reset reschedules t to when, whether it is pending, has fired or was
// stopped. It reports whether t was pending; if so, the earlier
// scheduling will not run.
func (t *wheelTimer) reset(when time.Time) bool {
	w := t.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.list != nil && t.list != &w.due && when.After(w.last) && !w.closed.Load() {
		if tick := w.ceilTick(when); tick >= t.tick {
			t.tick = tick // later: see the wheel's doc
			return true
		}
	}
	pending := w.cancel(t)
	w.schedule(t, when)
	return pending
}

// stop cancels t. It reports whether t was pending; if it returns true, f
// will not run for the cancelled scheduling. It returns false once f has
// started, after an earlier stop, and on a closed wheel.
func (t *wheelTimer) stop() bool {
	w := t.w
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cancel(t)
}

// len returns the number of timers waiting for their deadline.
func (w *wheel) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed.Load() {
		return 0
	}
	return w.n
}

// close stops the wheel's goroutine and waits for it, and for any advance
// running on another goroutine, to return. No callback starts once close
// has returned. It is idempotent and must not be called from a callback.
func (w *wheel) close() {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed.Store(true)
		w.mu.Unlock()
		close(w.quit)
	})
	<-w.done
	w.advMu.Lock()
	//lint:ignore SA2001 waiting for a running advance is the point
	w.advMu.Unlock()
}

// advance runs the callbacks of every timer due at or before now, those of
// an earlier tick before those of a later one, on the calling goroutine.
// The wheel's goroutine calls it on every tick; tests may call it directly.
// Each slot is visited at most once per call, however far now jumps.
func (w *wheel) advance(now time.Time) {
	w.advMu.Lock()
	defer w.advMu.Unlock()

	batch, due, inOrder := w.collect(now, w.batch[:0])
	// Sort outside w.mu: a big jump may have collected many timers.
	if due > 1 {
		sortFirings(batch[:due])
	}
	if !inOrder {
		// Slots were visited once each, rounds mixed. Every timer of the
		// due list was due no later than any timer of a slot, so the two
		// parts sort apart.
		sortFirings(batch[due:])
	}
	for _, b := range batch {
		if w.closed.Load() {
			break
		}
		if b.t.armed.CompareAndSwap(b.gen, 0) {
			b.t.f()
		}
	}
	clear(batch) // let fired timers be garbage collected
	if cap(batch) > maxKeptBatch {
		batch = nil
	}
	w.batch = batch[:0]
}

// collect unlinks the timers due at or before now and appends them to
// batch, armed to fire: first the due list's, unordered, then the slots'.
// These are in deadline order if inOrder, unordered if not.
func (w *wheel) collect(now time.Time, batch []wheelFiring) (
	_ []wheelFiring, due int, inOrder bool,
) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed.Load() {
		return batch, 0, true
	}
	if now.After(w.last) {
		w.last = now
	}

	for t := w.due; t != nil; {
		next := t.next
		batch = w.take(batch, t)
		t = next
	}
	due = len(batch)

	target := w.floorTick(w.last)
	if target < w.next {
		return batch, due, true
	}
	// Visit the slots of the ticks from w.next to target in order, or,
	// when that is a revolution or more, every slot once.
	span := target - w.next + 1
	inOrder = span <= int64(len(w.slots))
	if !inOrder {
		span = int64(len(w.slots))
	}
	for i := range span {
		tick := w.next + i
		slot := tick & w.mask
		for t := w.slots[slot]; t != nil; {
			next := t.next
			switch home := t.tick & w.mask; {
			case t.tick <= target && (!inOrder || t.tick <= tick):
				batch = w.take(batch, t)
			case home != slot:
				// Reset to a later tick: move it to its own slot, which
				// this call visits later if t is due by target.
				t.unlink()
				t.link(&w.slots[home])
			}
			t = next
		}
	}
	w.next = target + 1
	return batch, due, inOrder
}

// take unlinks t, arms it and appends it to batch. w.mu is held.
func (w *wheel) take(batch []wheelFiring, t *wheelTimer) []wheelFiring {
	t.unlink()
	w.n--
	t.armed.Store(t.gen)
	return append(batch, wheelFiring{t: t, gen: t.gen, tick: t.tick})
}

func sortFirings(batch []wheelFiring) {
	slices.SortFunc(batch, func(a, b wheelFiring) int { return cmp.Compare(a.tick, b.tick) })
}

// schedule links the unlinked timer t for when. w.mu is held.
func (w *wheel) schedule(t *wheelTimer, when time.Time) {
	t.gen++
	if w.closed.Load() {
		return
	}
	t.tick = w.ceilTick(when)
	if t.tick < w.next || !when.After(w.last) {
		// Due already, by a tick advance has collected or by an instant
		// it has seen: the next advance runs it.
		t.link(&w.due)
	} else {
		t.link(&w.slots[t.tick&w.mask])
	}
	w.n++
}

// cancel unlinks or disarms t and reports whether it was pending. w.mu is
// held.
func (w *wheel) cancel(t *wheelTimer) bool {
	if w.closed.Load() {
		return false
	}
	if t.list != nil {
		t.unlink()
		w.n--
		t.gen++
		return true
	}
	if t.armed.Swap(0) != 0 {
		t.gen++
		return true
	}
	return false
}

// ceilTick returns the first tick at or after when.
func (w *wheel) ceilTick(when time.Time) int64 {
	d := clampDelay(when.Sub(w.origin))
	q := d / w.tick
	if q*w.tick < d {
		q++
	}
	return int64(q)
}

// floorTick returns the last tick at or before now.
func (w *wheel) floorTick(now time.Time) int64 {
	d := clampDelay(now.Sub(w.origin))
	q := d / w.tick
	if q*w.tick > d {
		q--
	}
	return int64(q)
}

func clampDelay(d time.Duration) time.Duration {
	return min(max(d, -maxWheelDelay), maxWheelDelay)
}

func (t *wheelTimer) link(list **wheelTimer) {
	t.list = list
	t.prev = nil
	t.next = *list
	if t.next != nil {
		t.next.prev = t
	}
	*list = t
}

func (t *wheelTimer) unlink() {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		*t.list = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.prev, t.next, t.list = nil, nil, nil
}
