package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// A redirect is an answer, retried like a 5xx, never followed: not to a
// GET that would count as delivered, not to another host with the signed
// event.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				http.Redirect(w, r, other.URL+"/steal", code)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		s := newTestSender(t, srv.URL)
		s.Send(context.Background(), event)
		drain(t, s)
		srv.Close()
		if n := hits.Load(); n != 2 {
			t.Errorf("%d: %d attempts, want a retry after the redirect, then the delivery", code, n)
		}
		if n := testutil.ToFloat64(s.deliveries.WithLabelValues("delivered")); n != 1 {
			t.Errorf("%d: delivered = %v, want 1, by the retry", code, n)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirects' target got %d requests", n)
	}
}

// Only the scheme and host of the URL reach a log or an error: its path
// and query may carry a token.
func TestURLSecretsStayOutOfLogs(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	dead := httptest.NewServer(http.NotFoundHandler())
	base := dead.URL
	dead.Close()
	s := newTestSender(t, base+"/hooks?token=hunter2-secret", func(o *Options) { o.Logger = zap.New(core); o.MaxAge = time.Hour })
	s.Send(context.Background(), Event{SID: "s1", Reason: "idle", At: time.Now().Add(-time.Hour + 20*time.Millisecond)})
	drain(t, s)
	if logs.Len() == 0 {
		t.Fatal("no log of the failed delivery")
	}
	for _, e := range logs.All() {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += " " + k + "=" + strings.TrimSpace(strings.ReplaceAll(toString(v), "\n", " "))
		}
		if strings.Contains(line, "hunter2") || strings.Contains(line, "/hooks") {
			t.Errorf("a log line shows the URL's path or query: %s", line)
		}
	}
	if _, err := NewSender(Options{URL: "ftp://user:pass@host/x?token=hunter2", Secret: secret}); err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "pass") {
		t.Errorf("NewSender's error = %v, want it without the URL's secrets", err)
	}
}

func toString(v any) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// At shutdown the memory queue delivers until the deadline, then drops
// the rest, and says how many.
func TestShutdownDropsAreLogged(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	s := newTestSender(t, srv.URL, func(o *Options) { o.Logger = zap.New(core); o.Workers = 1 })
	for range 3 {
		s.Send(context.Background(), event)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline's error", err)
	}
	found := logs.FilterMessageSnippet("dropped at shutdown").All()
	if len(found) != 1 || found[0].ContextMap()["dropped"] != int64(3) {
		t.Errorf("logs = %v, want one line saying 3 were dropped", logs.All())
	}
}

func requireRedis(t *testing.T) *redis.Client {
	t.Helper()
	addr := os.Getenv("PRESENCE_TEST_REDIS")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(t.Context()).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Redis at %s: %v", addr, err)
		}
		t.Skipf("skipped: no Redis at %s", addr)
	}
	return c
}

// With Redis, a delivery outlives the node that queued it: node A queues
// an end while the receiver is down and stops; node B, sharing the
// stream, delivers it once the receiver is back, once.
func TestStreamDeliveryOutlivesItsNode(t *testing.T) {
	client := requireRedis(t)
	prefix := "presence-test:" + strings.ReplaceAll(t.Name(), "/", "-") + time.Now().Format("150405.000000") + ":"
	t.Cleanup(func() { client.Del(context.Background(), prefix+"webhooks") })
	var up atomic.Bool
	rc := newReceiver(t)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		rc.srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer gate.Close()
	node := func() *Sender {
		return newTestSender(t, gate.URL, func(o *Options) { o.Redis = client; o.Prefix = prefix; o.MinBackoff = 50 * time.Millisecond })
	}
	a := node()
	if !a.Send(context.Background(), event) {
		t.Fatal("Send refused")
	}
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(a.retries) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	a.Close(ctx) // node A goes away, its delivery pending in the stream
	cancel()

	b := node()
	up.Store(true)
	for len(rc.deliveries()) == 0 && time.Now().Before(deadline.Add(5*time.Second)) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a repeat would come now
	if got := rc.deliveries(); len(got) != 1 || !strings.Contains(string(got[0].body), `"sid":"s1"`) {
		t.Fatalf("deliveries = %d, want node A's end, once, from node B", len(got))
	}
	if n := testutil.ToFloat64(b.deliveries.WithLabelValues("delivered")); n != 1 {
		t.Errorf("node B delivered %v, want 1", n)
	}
	if n, _ := client.XLen(context.Background(), prefix+"webhooks").Result(); n != 0 {
		t.Errorf("%d entries left in the stream, want none", n)
	}
}
