package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"sid":"s1","uid":"","reason":"idle","at":"2027-01-15T08:00:00.000Z"}`)
	sig := Sign(secret, body, now)
	if !strings.HasPrefix(sig, "t=1800000000,v1=") || len(sig) != len("t=1800000000,v1=")+64 {
		t.Fatalf("Sign = %q", sig)
	}
	old := []byte("an-older-secret-0123456789abcdef!!")
	cases := []struct {
		name    string
		header  string
		body    []byte
		now     time.Time
		secrets [][]byte
		want    error
	}{
		{"valid", sig, body, now, [][]byte{secret}, nil},
		{"valid with rotation", sig, body, now, [][]byte{old, secret}, nil},
		{"within tolerance", sig, body, now.Add(Tolerance), [][]byte{secret}, nil},
		{"stale", sig, body, now.Add(Tolerance + time.Second), [][]byte{secret}, ErrStale},
		{"from the future", sig, body, now.Add(-Tolerance - time.Second), [][]byte{secret}, ErrStale},
		{"tampered body", sig, []byte(strings.Replace(string(body), "idle", "logout", 1)), now, [][]byte{secret}, ErrBadSignature},
		{"other secret", sig, body, now, [][]byte{old}, ErrBadSignature},
		{"empty", "", body, now, [][]byte{secret}, ErrNoSignature},
		{"no v1", "t=1800000000", body, now, [][]byte{secret}, ErrNoSignature},
		{"not hex", "t=1800000000,v1=zz", body, now, [][]byte{secret}, ErrNoSignature},
		{"timestamp swapped", strings.Replace(sig, "t=1800000000", "t=1800000001", 1), body, now, [][]byte{secret}, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Verify(c.header, c.body, c.now, c.secrets...); !errors.Is(err, c.want) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// receiver records deliveries and answers with the statuses it is given,
// then 204.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []delivery
	srv      *httptest.Server
}

type delivery struct {
	body      []byte
	signature string
	key       string
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{body, r.Header.Get(SignatureHeader), r.Header.Get("Idempotency-Key")})
		status := http.StatusNoContent
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func newTestSender(t *testing.T, url string, tweak ...func(*Options)) *Sender {
	t.Helper()
	opts := Options{URL: url, Secret: secret, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	for _, f := range tweak {
		f(&opts)
	}
	s, err := NewSender(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Close delivers until its ctx ends: a test's receiver may be gone.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

func drain(t *testing.T, s *Sender) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

var event = Event{SID: "s1", UID: "42", Reason: "idle", At: time.Date(2027, 1, 15, 8, 0, 0, 123456789, time.UTC)}

func TestDeliveredOnceSigned(t *testing.T) {
	rc := newReceiver(t)
	s := newTestSender(t, rc.srv.URL)
	if !s.Send(context.Background(), event) {
		t.Fatal("Send refused")
	}
	drain(t, s)
	got := rc.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	var body map[string]string
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sid": "s1", "uid": "42", "reason": "idle", "at": "2027-01-15T08:00:00.123Z"}
	if len(body) != len(want) {
		t.Errorf("body = %s", got[0].body)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %q, want %q", k, body[k], v)
		}
	}
	if err := Verify(got[0].signature, got[0].body, time.Now(), secret); err != nil {
		t.Errorf("signature: %v", err)
	}
	if len(got[0].key) != 32 {
		t.Errorf("Idempotency-Key = %q", got[0].key)
	}
	if n := testutil.ToFloat64(s.deliveries.WithLabelValues("delivered")); n != 1 {
		t.Errorf("delivered = %v", n)
	}
}

func TestRetriedAfter5xxWithSameKey(t *testing.T) {
	rc := newReceiver(t, 500, 503, 429)
	s := newTestSender(t, rc.srv.URL)
	s.Send(context.Background(), event)
	drain(t, s)
	got := rc.deliveries()
	if len(got) != 4 {
		t.Fatalf("%d attempts, want 4 (three failures, then success)", len(got))
	}
	for _, d := range got {
		if d.key != got[0].key || string(d.body) != string(got[0].body) {
			t.Errorf("a retry changed the key or body")
		}
	}
	if n := testutil.ToFloat64(s.retries); n != 3 {
		t.Errorf("retries = %v, want 3", n)
	}
}

func TestNotRetriedAfter4xx(t *testing.T) {
	rc := newReceiver(t, 400)
	s := newTestSender(t, rc.srv.URL)
	s.Send(context.Background(), event)
	drain(t, s)
	if n := len(rc.deliveries()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if n := testutil.ToFloat64(s.deliveries.WithLabelValues("failed")); n != 1 {
		t.Errorf("failed = %v, want 1", n)
	}
}

// A delivery is retried until MaxAge after its end, then given up,
// counted and logged.
func TestGivesUpAfterMaxAge(t *testing.T) {
	rc := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	s := newTestSender(t, rc.srv.URL, func(o *Options) { o.MaxAge = time.Hour })
	s.Send(context.Background(), Event{SID: "s1", Reason: "idle", At: time.Now().Add(-time.Hour + 30*time.Millisecond)})
	drain(t, s)
	if n := len(rc.deliveries()); n < 2 || n > 11 {
		t.Errorf("%d attempts in the 30 ms left of MaxAge, want a few", n)
	}
	if n := testutil.ToFloat64(s.deliveries.WithLabelValues("failed")); n != 1 {
		t.Errorf("failed = %v, want 1", n)
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	s := newTestSender(t, url, func(o *Options) { o.MaxAge = time.Hour })
	s.Send(context.Background(), Event{SID: "s1", Reason: "idle", At: time.Now().Add(-time.Hour + 30*time.Millisecond)})
	drain(t, s)
	if n := testutil.ToFloat64(s.retries); n < 1 {
		t.Errorf("retries = %v, want some", n)
	}
	if n := testutil.ToFloat64(s.deliveries.WithLabelValues("failed")); n != 1 {
		t.Errorf("failed = %v, want 1", n)
	}
}

func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	s := newTestSender(t, srv.URL, func(o *Options) { o.QueueSize = 2; o.Workers = 1 })
	sent := 0
	for range 10 {
		if s.Send(context.Background(), event) {
			sent++
		}
	}
	if sent > 3 {
		t.Errorf("%d of 10 queued with a queue of 2 and one busy worker", sent)
	}
	if n := testutil.ToFloat64(s.deliveries.WithLabelValues("dropped")); n != float64(10-sent) {
		t.Errorf("dropped = %v, want %d", n, 10-sent)
	}
}

func TestCloseStopsTakingEvents(t *testing.T) {
	rc := newReceiver(t)
	s := newTestSender(t, rc.srv.URL)
	drain(t, s)
	if s.Send(context.Background(), event) {
		t.Error("Send after Close queued an event")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, o := range []Options{{URL: "", Secret: secret}, {URL: "ftp://x", Secret: secret}, {URL: "/relative", Secret: secret}, {URL: "http://x"}} {
		if _, err := NewSender(o); err == nil {
			t.Errorf("NewSender(%+v) succeeded", o)
		}
	}
}
