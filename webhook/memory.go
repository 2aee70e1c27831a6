package webhook

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// memoryQueue holds deliveries in the process: a bounded channel read by
// the Sender's workers, each of which tries its delivery until it is
// over.
type memoryQueue struct {
	s       *Sender
	queue   chan Event
	ctx     context.Context // cancelled when Close runs out of time
	cancel  context.CancelFunc
	workers sync.WaitGroup

	mu      sync.RWMutex // guards closed against push racing close
	closed  bool
	dropped int // deliveries dropped at shutdown
}

func newMemoryQueue(s *Sender) *memoryQueue {
	q := &memoryQueue{s: s, queue: make(chan Event, s.opts.QueueSize)}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	q.workers.Add(s.opts.Workers)
	for range s.opts.Workers {
		go q.work()
	}
	return q
}

// push queues e. It never blocks: when the queue is full the event is
// dropped, counted and logged.
func (q *memoryQueue) push(e Event) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return false
	}
	select {
	case q.queue <- e:
		return true
	default:
		q.s.deliveries.WithLabelValues(resultDropped).Inc()
		q.s.opts.Logger.Error("webhook queue full; delivery dropped", zap.String("reason", e.Reason))
		return false
	}
}

func (q *memoryQueue) work() {
	defer q.workers.Done()
	for e := range q.queue {
		q.deliver(e)
	}
}

// deliver tries e until it is delivered, refused, past MaxAge, or cut off
// by shutdown.
func (q *memoryQueue) deliver(e Event) {
	s := q.s
	for attempt := 1; ; attempt++ {
		if q.ctx.Err() != nil {
			q.drop()
			return
		}
		o, err := s.attempt(q.ctx, e)
		if o != retry || s.expired(e) {
			s.settled(e, o, attempt, err)
			return
		}
		s.retries.Inc()
		wait := s.backoff(attempt)
		s.opts.Logger.Warn("webhook delivery failed; retrying", zap.Error(err), zap.Int("attempt", attempt), zap.Duration("retry_in", wait))
		select {
		case <-time.After(wait):
		case <-q.ctx.Done():
			q.drop()
			return
		}
	}
}

func (q *memoryQueue) drop() {
	q.s.deliveries.WithLabelValues(resultDropped).Inc()
	q.mu.Lock()
	q.dropped++
	q.mu.Unlock()
}

// close stops taking events and delivers the queued ones until ctx ends;
// then it drops the rest and logs how many.
func (q *memoryQueue) close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.queue)
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.workers.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		q.cancel()
		<-done
	}
	q.cancel()
	q.mu.Lock()
	dropped := q.dropped
	q.dropped = 0
	q.mu.Unlock()
	if dropped > 0 {
		q.s.opts.Logger.Error("webhook deliveries dropped at shutdown: the sessions ended, the application was not told",
			zap.Int("dropped", dropped))
	}
	return err
}
