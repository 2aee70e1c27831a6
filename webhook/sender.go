package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/internal/clock"
)

// Options configures a Sender. URL and Secret are required.
type Options struct {
	// URL receives every delivery. It must be http or https.
	URL string
	// Secret signs the deliveries: presence's token secret.
	Secret []byte
	// Client makes the requests; the Sender never follows its redirects.
	// Nil means a client with a 10 s timeout.
	Client *http.Client
	// MaxAge is how long after its end a delivery is tried: network errors,
	// 3xx, 429 and 5xx answers are retried until then, and the delivery is
	// then dropped, counted and logged. Zero means 24 h.
	MaxAge time.Duration
	// Redis, when set, keeps the deliveries waiting to be sent in a stream
	// with a consumer group, <Prefix>webhooks, where every node that shares
	// it sends them: a delivery outlives the node that queued it. Nil
	// means the process's memory.
	Redis redis.UniversalClient
	// Prefix starts the stream's key. Zero means "presence:".
	Prefix string
	// QueueSize bounds the deliveries waiting in memory; past it, new ones
	// are dropped and counted. Zero means 10000.
	QueueSize int
	// Workers is how many deliveries are in flight at once. Zero means 4.
	Workers int
	// MinBackoff and MaxBackoff bound the wait before a retry, which
	// doubles with each try, with full jitter. Zero means 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// Clock tells the time. Nil means the system clock.
	Clock clock.Clock
	// Logger receives failures. Nil means no logs.
	Logger *zap.Logger
	// Registerer receives the sender's metrics. Nil means unregistered.
	Registerer prometheus.Registerer
}

// Sender delivers Events in the background. All methods may be called
// concurrently.
type Sender struct {
	opts   Options
	target string // the URL's scheme and host, for logs and errors

	mem    *memoryQueue
	stream *streamQueue // nil without Redis

	deliveries *prometheus.CounterVec
	retries    prometheus.Counter
}

// The results deliveries are counted by.
const (
	resultDelivered = "delivered"
	resultFailed    = "failed"  // refused for good, or given up at MaxAge
	resultDropped   = "dropped" // a full queue, or shutdown before delivery
)

// NewSender starts a Sender's workers; Close stops them.
func NewSender(opts Options) (*Sender, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook: URL %s must be an absolute http or https URL", Redact(opts.URL))
	}
	if len(opts.Secret) == 0 {
		return nil, errors.New("webhook: a secret is required to sign deliveries")
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	client := *opts.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		// A redirect would turn the POST into a GET with no body, or send
		// the signed event to whatever host it names: it is an answer,
		// retried as one, never followed.
		return http.ErrUseLastResponse
	}
	opts.Client = &client
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.Prefix == "" {
		opts.Prefix = "presence:"
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10000
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = clock.System()
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	s := &Sender{
		opts:   opts,
		target: u.Scheme + "://" + u.Host,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "presence_webhook_deliveries_total",
			Help: "Webhook deliveries by result: delivered, failed (refused for good, or given up after -webhook-max-age) or dropped (queue full, or shutdown).",
		}, []string{"result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "presence_webhook_retries_total",
			Help: "Webhook attempts that failed and were retried.",
		}),
	}
	for _, r := range []string{resultDelivered, resultFailed, resultDropped} {
		s.deliveries.WithLabelValues(r) // present from the start, at 0
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{s.deliveries, s.retries} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("webhook: register metrics: %w", err)
			}
		}
	}
	s.mem = newMemoryQueue(s)
	if opts.Redis != nil {
		if s.stream, err = newStreamQueue(s); err != nil {
			s.mem.close(context.Background())
			return nil, err
		}
	}
	return s, nil
}

// Send queues e for delivery. It never waits for the delivery: with Redis
// the event is added to the stream (ctx bounds that), and, should Redis
// not take it, kept in memory instead; in memory, a full queue drops the
// event, counts and logs it, and Send returns false.
func (s *Sender) Send(ctx context.Context, e Event) bool {
	if s.stream != nil {
		err := s.stream.push(ctx, e)
		if err == nil {
			return true
		}
		if errors.Is(err, errClosed) {
			return false
		}
		s.opts.Logger.Warn("webhook delivery kept in memory: Redis did not take it", zap.Error(err))
	}
	return s.mem.push(e)
}

// Close stops taking events, and delivers the ones it holds until ctx
// ends: then it drops the deliveries left in memory, logs how many, and
// returns ctx.Err(). Those waiting in Redis stay there for the other nodes,
// or this one when it starts again. It is idempotent.
func (s *Sender) Close(ctx context.Context) error {
	var streamErr error
	if s.stream != nil {
		streamErr = s.stream.close(ctx)
	}
	return errors.Join(s.mem.close(ctx), streamErr)
}
