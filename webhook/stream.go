package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// errClosed is push's error after close.
var errClosed = errors.New("webhook: sender closed")

// streamGroup is the consumer group every node reads the stream in.
const streamGroup = "presence"

// maxStream bounds the stream: far more deliveries than any outage of a
// receiver leaves waiting.
const maxStream = 1_000_000

// streamQueue keeps deliveries in a Redis stream, read by every node in
// one consumer group: a delivery is acknowledged and deleted once it is
// over, and stays pending while it is retried, where any node (the one
// that read it, or another once that one is gone) claims it again after
// its backoff. A node's crash loses no delivery, and a delivery goes out
// from whichever nodes are alive.
type streamQueue struct {
	s        *Sender
	client   redis.UniversalClient
	key      string
	consumer string // this node's name in the group

	reading    context.Context // cancelled when close starts: read no more
	stopRead   context.CancelFunc
	sending    context.Context // cancelled when close runs out of time
	stopSend   context.CancelFunc
	closed     atomic.Bool
	wg         sync.WaitGroup
	groupReady atomic.Bool
}

func newStreamQueue(s *Sender) (*streamQueue, error) {
	var id [8]byte
	rand.Read(id[:])
	q := &streamQueue{s: s, client: s.opts.Redis, key: s.opts.Prefix + "webhooks", consumer: hex.EncodeToString(id[:])}
	q.reading, q.stopRead = context.WithCancel(context.Background())
	q.sending, q.stopSend = context.WithCancel(context.Background())
	q.wg.Add(s.opts.Workers + 1)
	for range s.opts.Workers {
		go q.read()
	}
	go q.reclaim()
	return q, nil
}

// wireEvent is an event as the stream keeps it.
type wireEvent struct {
	SID    string    `json:"sid"`
	UID    string    `json:"uid"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// push adds e to the stream.
func (q *streamQueue) push(ctx context.Context, e Event) error {
	if q.closed.Load() {
		return errClosed
	}
	data, err := json.Marshal(wireEvent(e))
	if err != nil {
		return err
	}
	return q.client.XAdd(ctx, &redis.XAddArgs{Stream: q.key, MaxLen: maxStream, Approx: true, Values: []any{"event", data}}).Err()
}

// ensureGroup makes the consumer group, and the stream with it, once.
func (q *streamQueue) ensureGroup(ctx context.Context) error {
	if q.groupReady.Load() {
		return nil
	}
	err := q.client.XGroupCreateMkStream(ctx, q.key, streamGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	q.groupReady.Store(true)
	return nil
}

// read takes new deliveries from the stream and tries each once.
func (q *streamQueue) read() {
	defer q.wg.Done()
	for q.reading.Err() == nil {
		if err := q.ensureGroup(q.reading); err != nil {
			q.pause(err)
			continue
		}
		streams, err := q.client.XReadGroup(q.reading, &redis.XReadGroupArgs{
			Group: streamGroup, Consumer: q.consumer, Streams: []string{q.key, ">"}, Count: 1, Block: 2 * time.Second,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case err != nil:
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				q.groupReady.Store(false) // Redis lost it: make it again
			}
			q.pause(err)
			continue
		}
		for _, st := range streams {
			for _, m := range st.Messages {
				q.handle(m, 1)
			}
		}
	}
}

// reclaim claims, every second, the deliveries that have waited their
// backoff since their last try, on this node or another, and tries them
// again.
func (q *streamQueue) reclaim() {
	defer q.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-q.reading.Done():
			return
		case <-tick.C:
		}
		pending, err := q.client.XPendingExt(q.reading, &redis.XPendingExtArgs{
			Stream: q.key, Group: streamGroup, Idle: q.s.opts.MinBackoff, Start: "-", End: "+", Count: 100,
		}).Result()
		if err != nil {
			continue // a missing group or an outage: read makes and reports them
		}
		for _, p := range pending {
			wait := q.s.retryAfter(int(p.RetryCount))
			if p.Idle < wait {
				continue
			}
			msgs, err := q.client.XClaim(q.reading, &redis.XClaimArgs{
				Stream: q.key, Group: streamGroup, Consumer: q.consumer, MinIdle: wait, Messages: []string{p.ID},
			}).Result()
			if err != nil {
				break
			}
			for _, m := range msgs {
				q.handle(m, int(p.RetryCount)+1)
			}
		}
	}
}

// handle tries one delivery, the attempts-th time, and acknowledges it
// once it is over. A delivery to retry stays pending for reclaim.
func (q *streamQueue) handle(m redis.XMessage, attempts int) {
	s := q.s
	raw, _ := m.Values["event"].(string)
	var w wireEvent
	if err := json.Unmarshal([]byte(raw), &w); err != nil || w.SID == "" {
		s.opts.Logger.Error("webhook stream entry that is not an event; deleted", zap.String("id", m.ID))
		q.done(m.ID)
		return
	}
	e := Event(w)
	o, err := s.attempt(q.sending, e)
	if o == retry && !s.expired(e) {
		if q.sending.Err() == nil {
			s.retries.Inc()
			s.opts.Logger.Warn("webhook delivery failed; retrying", zap.Error(err), zap.Int("attempt", attempts),
				zap.Duration("retry_in", s.retryAfter(attempts)))
		}
		return
	}
	s.settled(e, o, attempts, err)
	q.done(m.ID)
}

// done acknowledges and deletes a delivery that is over.
func (q *streamQueue) done(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := q.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, q.key, streamGroup, id)
		p.XDel(ctx, q.key, id)
		return nil
	})
	if err != nil {
		// It stays pending: reclaim tries it again, and the receiver drops
		// the repeat by its Idempotency-Key.
		q.s.opts.Logger.Warn("webhook delivery not acknowledged in Redis; it may be sent again", zap.Error(err))
	}
}

// pause waits a second, or less when closing, after a failed read.
func (q *streamQueue) pause(err error) {
	if q.reading.Err() != nil {
		return
	}
	q.s.opts.Logger.Debug("webhook stream unavailable", zap.Error(err))
	select {
	case <-time.After(time.Second):
	case <-q.reading.Done():
	}
}

// close stops reading, lets the tries under way finish until ctx ends,
// and leaves every delivery not over in the stream.
func (q *streamQueue) close(ctx context.Context) error {
	q.closed.Store(true)
	q.stopRead()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		q.stopSend()
		<-done
	}
	q.stopSend()
	return err
}
