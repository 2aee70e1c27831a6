package hub

import "sync"

// dueQueue hands hubs whose deadline fired to a fixed set of workers.
// The timer wheel's goroutine must never block, while deciding a deadline
// reads the store, which may wait on the network; the queue sits between
// the two. It is unbounded, but holds each hub at most once (hub.queued),
// so it never grows past the number of live sessions.
//
// A worker takes every hub waiting, up to dueBatch, and decides them
// together: deadlines that fall together are read from the store in one
// round trip, not one each.
type dueQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	items   []*hub
	busy    int // workers running an item
	closed  bool
	workers sync.WaitGroup
}

// dueBatch is the most hubs a worker decides in one batch.
const dueBatch = 256

func newDueQueue(workers int, work func([]*hub)) *dueQueue {
	q := &dueQueue{}
	q.cond = sync.NewCond(&q.mu)
	q.workers.Add(workers)
	for range workers {
		go func() {
			defer q.workers.Done()
			for {
				hubs, ok := q.pop()
				if !ok {
					return
				}
				work(hubs)
				q.done()
			}
		}()
	}
	return q
}

// push queues h. It never blocks.
func (q *dueQueue) push(h *hub) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.items = append(q.items, h)
	q.cond.Signal()
}

// pop waits for hubs and takes up to dueBatch of them.
func (q *dueQueue) pop() ([]*hub, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, false
	}
	q.busy++
	n := min(len(q.items), dueBatch)
	hubs := make([]*hub, n)
	copy(hubs, q.items)
	clear(q.items[:n])
	q.items = q.items[n:]
	if len(q.items) == 0 {
		q.items = nil
	}
	return hubs, true
}

// done marks a worker's batch finished.
func (q *dueQueue) done() {
	q.mu.Lock()
	q.busy--
	q.mu.Unlock()
}

// idle reports whether no hub waits and no worker is busy.
func (q *dueQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0 && q.busy == 0
}

// close stops the workers once their current item is done and drops what
// is still queued. It is idempotent.
func (q *dueQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.items = nil
	q.cond.Broadcast()
	q.mu.Unlock()
	q.workers.Wait()
}
