package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"
)

// outcome is what one attempt of a delivery came to.
type outcome int

const (
	delivered outcome = iota
	retry             // a network error, 3xx, 429 or 5xx: try again later
	refused           // any other answer: the receiver will not take it
)

// attempt POSTs e once.
func (s *Sender) attempt(ctx context.Context, e Event) (outcome, error) {
	body := e.body()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return refused, redacted(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "presence-webhook/1")
	req.Header.Set("Idempotency-Key", e.idempotencyKey())
	req.Header.Set(SignatureHeader, Sign(s.opts.Secret, body, s.opts.Clock.Now()))
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return retry, redacted(err)
	}
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return delivered, nil
	case code >= 300 && code < 400:
		return retry, fmt.Errorf("%s answered %s; redirects are not followed, the URL must be the receiver's own", s.target, resp.Status)
	case code == http.StatusTooManyRequests || code >= 500:
		return retry, fmt.Errorf("%s answered %s", s.target, resp.Status)
	}
	return refused, fmt.Errorf("%s answered %s; not retried", s.target, resp.Status)
}

// expired reports whether e is past MaxAge after its end: it is no longer
// tried.
func (s *Sender) expired(e Event) bool {
	return s.opts.Clock.Now().Sub(e.At) > s.opts.MaxAge
}

// settled counts and logs a delivery that is over, for better or worse.
func (s *Sender) settled(e Event, o outcome, attempts int, err error) {
	switch o {
	case delivered:
		s.deliveries.WithLabelValues(resultDelivered).Inc()
	case refused:
		s.deliveries.WithLabelValues(resultFailed).Inc()
		s.opts.Logger.Error("webhook delivery refused by the receiver", zap.Error(err), zap.Int("attempts", attempts), zap.String("reason", e.Reason))
	default:
		s.deliveries.WithLabelValues(resultFailed).Inc()
		s.opts.Logger.Error("webhook delivery given up after -webhook-max-age", zap.Error(err), zap.Int("attempts", attempts),
			zap.Duration("max_age", s.opts.MaxAge), zap.String("reason", e.Reason))
	}
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

// retryAfter is how long a delivery waits after its attempts-th failure
// before the stream's reclaim tries it again: doubling from MinBackoff to
// MaxBackoff. The nodes' claims, a second apart and racing, spread it.
func (s *Sender) retryAfter(attempts int) time.Duration {
	if shift := attempts - 1; shift >= 0 && shift < 30 {
		return min(s.opts.MinBackoff<<shift, s.opts.MaxBackoff)
	}
	return s.opts.MaxBackoff
}

// Redact returns only the scheme and host of a URL, for logs and errors:
// a webhook or Redis URL may carry a password or a token.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(a URL that does not parse)"
	}
	return u.Scheme + "://" + u.Host
}

// redacted rewrites the URL an *url.Error quotes to its scheme and host.
func redacted(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, Redact(ue.URL), ue.Err)
	}
	return err
}
