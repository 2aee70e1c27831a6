package backend

import "time"

// recent maps session ids to values and remembers the order in which they
// were last put, so that the oldest can be found and dropped in O(1). It
// is not safe for concurrent use; its owner holds a lock.
type recent[V any] struct {
	items map[string]*item[V]
	ring  item[V] // sentinel: ring.next is the oldest item, ring.prev the newest
	max   int
}

type item[V any] struct {
	key        string
	val        V
	at         time.Time // when it was last put
	prev, next *item[V]
}

func newRecent[V any](max int) *recent[V] {
	r := &recent[V]{items: make(map[string]*item[V]), max: max}
	r.ring.prev, r.ring.next = &r.ring, &r.ring
	return r
}

func (r *recent[V]) len() int { return len(r.items) }

func (r *recent[V]) get(key string) (*item[V], bool) {
	it, ok := r.items[key]
	return it, ok
}

// put sets key to val, stamped at, as the newest item, and drops the
// oldest items past max.
func (r *recent[V]) put(key string, val V, at time.Time) {
	it, ok := r.items[key]
	if ok {
		it.unlink()
	} else {
		it = &item[V]{key: key}
		r.items[key] = it
	}
	it.val, it.at = val, at
	it.prev, it.next = r.ring.prev, &r.ring
	r.ring.prev.next = it
	r.ring.prev = it
	for len(r.items) > r.max {
		r.remove(r.ring.next)
	}
}

func (r *recent[V]) remove(it *item[V]) {
	it.unlink()
	delete(r.items, it.key)
}

// oldest returns the oldest item, or false when r is empty.
func (r *recent[V]) oldest() (*item[V], bool) {
	if r.ring.next == &r.ring {
		return nil, false
	}
	return r.ring.next, true
}

// dropWhile drops the oldest items while stale says so. Each item is
// dropped once, so the cost is O(1) amortized over the puts.
func (r *recent[V]) dropWhile(stale func(*item[V]) bool) {
	for it, ok := r.oldest(); ok && stale(it); it, ok = r.oldest() {
		r.remove(it)
	}
}

func (it *item[V]) unlink() {
	it.prev.next = it.next
	it.next.prev = it.prev
	it.prev, it.next = nil, nil
}
