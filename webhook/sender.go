package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Options configures a Sender. URL and Secret are required.
type Options struct {
	// URL receives every delivery. It must be http or https.
	URL string
	// Secret signs the deliveries: presence's token secret.
	Secret []byte
	// Client makes the requests. Nil means a client with a 10 s timeout.
	Client *http.Client
	// QueueSize bounds the deliveries waiting to be sent; past it, new
	// ones are dropped and counted. Zero means 10000.
	QueueSize int
	// Workers is how many deliveries are in flight at once. Zero means 4.
	Workers int
	// MaxAttempts bounds the tries of one delivery. Zero means 8.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait before a retry, which
	// doubles with each try, with full jitter. Zero means 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives failures. Nil means no logs.
	Logger *zap.Logger
	// Registerer receives the sender's metrics. Nil means unregistered.
	Registerer prometheus.Registerer
}

// Sender delivers Events in the background. All methods may be called
// concurrently.
type Sender struct {
	opts    Options
	queue   chan Event
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup

	mu     sync.RWMutex // guards closed against Send racing Close
	closed bool

	deliveries *prometheus.CounterVec
	retries    prometheus.Counter
}

// NewSender starts a Sender's workers; Close stops them.
func NewSender(opts Options) (*Sender, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook: URL %q must be an absolute http or https URL", opts.URL)
	}
	if len(opts.Secret) == 0 {
		return nil, errors.New("webhook: a secret is required to sign deliveries")
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10000
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	s := &Sender{
		opts:  opts,
		queue: make(chan Event, opts.QueueSize),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "presence_webhook_deliveries_total",
			Help: "Webhook deliveries by result: delivered, failed (gave up) or dropped (queue full).",
		}, []string{"result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "presence_webhook_retries_total",
			Help: "Webhook attempts that failed and were retried.",
		}),
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{s.deliveries, s.retries} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("webhook: register metrics: %w", err)
			}
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.workers.Add(opts.Workers)
	for range opts.Workers {
		go s.work()
	}
	return s, nil
}

// Send queues e for delivery. It never blocks: when the queue is full the
// event is dropped, counted and logged, and Send returns false.
func (s *Sender) Send(e Event) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false
	}
	select {
	case s.queue <- e:
		return true
	default:
		s.deliveries.WithLabelValues("dropped").Inc()
		s.opts.Logger.Error("webhook queue full; delivery dropped", zap.String("reason", e.Reason))
		return false
	}
}

// Close stops taking events and waits for the queued ones to be delivered
// until ctx ends; then it abandons the rest and returns ctx.Err(). It is
// idempotent.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.workers.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return ctx.Err()
	}
}

func (s *Sender) work() {
	defer s.workers.Done()
	for e := range s.queue {
		s.deliver(e)
	}
}

// deliver tries e until it is delivered, refused for good, or out of
// attempts.
func (s *Sender) deliver(e Event) {
	body := e.body()
	key := e.idempotencyKey()
	for attempt := 1; ; attempt++ {
		retry, err := s.attempt(body, key)
		if err == nil {
			s.deliveries.WithLabelValues("delivered").Inc()
			return
		}
		if !retry || attempt >= s.opts.MaxAttempts || s.ctx.Err() != nil {
			s.deliveries.WithLabelValues("failed").Inc()
			s.opts.Logger.Error("webhook delivery failed", zap.Error(err), zap.Int("attempts", attempt), zap.String("reason", e.Reason))
			return
		}
		s.retries.Inc()
		wait := s.backoff(attempt)
		s.opts.Logger.Warn("webhook delivery failed; retrying", zap.Error(err), zap.Int("attempt", attempt), zap.Duration("retry_in", wait))
		select {
		case <-time.After(wait):
		case <-s.ctx.Done():
			s.deliveries.WithLabelValues("failed").Inc()
			return
		}
	}
}

// attempt POSTs one delivery and reports whether a failure is worth a
// retry: network errors, 429 and 5xx are; other answers are not.
func (s *Sender) attempt(body []byte, key string) (retry bool, err error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "presence-webhook/1")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set(SignatureHeader, Sign(s.opts.Secret, body, time.Now()))
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return true, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return false, fmt.Errorf("receiver answered %s; not retried", resp.Status)
}

// backoff is the wait after the attempt-th failure: full jitter up to an
// exponentially growing cap.
func (s *Sender) backoff(attempt int) time.Duration {
	ceiling := s.opts.MaxBackoff
	if shift := attempt - 1; shift < 30 {
		ceiling = min(s.opts.MinBackoff<<shift, s.opts.MaxBackoff)
	}
	return s.opts.MinBackoff/2 + time.Duration(rand.Int64N(int64(ceiling)))
}
