package backend

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// sidHeader stands in for the application's login session in these
// tests: the presence sid is the header's value.
func sidHeader(r *http.Request) (string, bool) {
	sid := r.Header.Get("X-Test-SID")
	return sid, sid != ""
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page") })

// get sends one request of session sid ("" for none) through h.
func get(h http.Handler, sid string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/account", nil)
	if sid != "" {
		req.Header.Set("X-Test-SID", sid)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// syncBuffer is a log destination that tests may read while handlers
// write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMiddlewareWithoutAPI(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		sid          string
		opts         MiddlewareOptions
		wantCode     int
		wantBody     string
		wantLocation string
	}{
		{"not logged in", "", MiddlewareOptions{}, 200, "page", ""},
		{"live session", "p1-live", MiddlewareOptions{}, 200, "page", ""},
		{"ended session", "p1-ended", MiddlewareOptions{}, 401, "Your session has ended. Please log in again.\n", ""},
		{"ended session, login URL", "p1-ended", MiddlewareOptions{LoginURL: "/login?next=%2F"}, 303, "", "/login?next=%2F"},
		{"ended session, own handler", "p1-ended", MiddlewareOptions{
			LoginURL: "/ignored",
			OnEnded:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(419) }),
		}, 419, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.opts.Ended = NewEnded(EndedOptions{})
			c.opts.Ended.Add("p1-ended", "idle")
			c.opts.SessionID = sidHeader
			w := get(Middleware(c.opts)(okHandler), c.sid)
			if w.Code != c.wantCode || c.wantBody != "" && w.Body.String() != c.wantBody {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body, c.wantCode, c.wantBody)
			}
			if loc := w.Header().Get("Location"); loc != c.wantLocation {
				t.Errorf("Location %q, want %q", loc, c.wantLocation)
			}
			if c.wantCode == 401 || c.wantCode == 303 {
				if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q", cc)
				}
			}
		})
	}
}

// apiGuarded is a handler behind Middleware with a Client of a fake API,
// on a fake clock, logging to logs.
type apiGuarded struct {
	h     http.Handler
	api   *fakeAPI
	clk   *fakeClock
	ended *Ended
	logs  *syncBuffer
}

func newAPIGuarded(t *testing.T, status int, body string, hc *http.Client) *apiGuarded {
	t.Helper()
	g := &apiGuarded{api: newFakeAPI(t, status, body), clk: newFakeClock(), logs: &syncBuffer{}}
	if hc == nil {
		hc = g.api.srv.Client()
	}
	g.ended = NewEnded(EndedOptions{Now: g.clk.Now, Max: 3})
	g.h = Middleware(MiddlewareOptions{
		SessionID:  sidHeader,
		Ended:      g.ended,
		Client:     newTestClient(t, g.api.srv.URL, hc),
		CheckEvery: 30 * time.Second,
		Logger:     slog.New(slog.NewTextHandler(g.logs, nil)),
		Now:        g.clk.Now,
	})(okHandler)
	return g
}

func (g *apiGuarded) calls() int { return len(g.api.requests()) }

func TestMiddlewareAsksAPIOncePerCheckEvery(t *testing.T) {
	t.Parallel()
	g := newAPIGuarded(t, 200, activeBody, nil)
	steps := []struct {
		advance   time.Duration
		sid       string
		wantCalls int
	}{
		{0, "", 0},
		{0, "p1-a", 1},
		{0, "p1-a", 1},
		{10 * time.Second, "p1-a", 1},
		{20*time.Second - time.Nanosecond, "p1-a", 1},
		{time.Nanosecond, "p1-a", 2},
		{0, "p1-a", 2},
		{0, "p1-b", 3},
		{time.Second, "p1-b", 3},
	}
	for i, s := range steps {
		g.clk.Advance(s.advance)
		if w := get(g.h, s.sid); w.Code != 200 {
			t.Errorf("step %d: status %d", i, w.Code)
		}
		if n := g.calls(); n != s.wantCalls {
			t.Errorf("step %d: %d API calls, want %d", i, n, s.wantCalls)
		}
	}
	for _, r := range g.api.requests() {
		if r.method != "GET" || !strings.HasPrefix(r.path, "/api/v1/sessions/p1-") || r.auth != "Bearer "+apiKey {
			t.Errorf("request %+v", r)
		}
	}
}

func TestMiddlewareConcurrentRequestsShareOneCall(t *testing.T) {
	t.Parallel()
	g := newAPIGuarded(t, 200, expiredBody, nil)
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Go(func() { codes[i] = get(g.h, "p1-ab").Code })
	}
	wg.Wait()
	if n := g.calls(); n != 1 {
		t.Errorf("%d API calls for 20 concurrent requests, want 1", n)
	}
	for i, c := range codes {
		if c != 401 {
			t.Errorf("request %d: %d, want 401", i, c)
		}
	}
}

func TestMiddlewareRecordsExpired(t *testing.T) {
	t.Parallel()
	g := newAPIGuarded(t, 200, expiredBody, nil)
	if w := get(g.h, "p1-ab"); w.Code != 401 {
		t.Fatalf("status %d, want 401", w.Code)
	}
	if reason, ok := g.ended.Has("p1-ab"); !ok || reason != "expired" {
		t.Errorf("Has = %q, %v; want expired, true", reason, ok)
	}
	g.clk.Advance(time.Hour)
	if w := get(g.h, "p1-ab"); w.Code != 401 {
		t.Errorf("later: status %d, want 401", w.Code)
	}
	if n := g.calls(); n != 1 {
		t.Errorf("%d API calls; an ended session needs no more", n)
	}
}

func TestMiddlewarePassesUnknownAndWarning(t *testing.T) {
	t.Parallel()
	for _, body := range []string{unknownBody, strings.Replace(activeBody, "active", "warning", 1)} {
		status := 200
		if body == unknownBody {
			status = 404
		}
		g := newAPIGuarded(t, status, body, nil)
		if w := get(g.h, "p1-ab"); w.Code != 200 {
			t.Errorf("%s: status %d, want 200", body, w.Code)
		}
		if _, ok := g.ended.Has("p1-ab"); ok {
			t.Errorf("%s: recorded as ended", body)
		}
		if g.logs.String() != "" {
			t.Errorf("logs: %s", g.logs)
		}
	}
}

func TestMiddlewareFailsOpen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(*apiGuarded)
	}{
		{"API down", func(g *apiGuarded) { g.api.srv.Close() }},
		{"API erring", func(g *apiGuarded) { g.api.reply(503, `{"error":{"code":"store_unavailable","message":"try later"}}`) }},
		{"API too slow", func(g *apiGuarded) { g.api.hold(true) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := newAPIGuarded(t, 200, expiredBody, &http.Client{Timeout: 100 * time.Millisecond})
			c.setup(g)
			start := time.Now()
			if w := get(g.h, "p1-ab"); w.Code != 200 {
				t.Errorf("status %d, want 200 (fail open)", w.Code)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the request waited %v, beyond the Client's 100ms timeout", d)
			}
			if logs := g.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "fail open") {
				t.Errorf("the failure was not logged: %q", logs)
			}
			calls := g.calls()
			if w := get(g.h, "p1-ab"); w.Code != 200 || g.calls() != calls {
				t.Errorf("a failed API was asked again within CheckEvery (%d, %d calls)", w.Code, g.calls())
			}
			g.api.hold(false)
			g.api.reply(200, expiredBody)
			g.clk.Advance(30 * time.Second)
			if c.name != "API down" {
				// After a failure the API is asked in the background: the
				// request that asks does not wait, the next one is refused.
				if w := get(g.h, "p1-ab"); w.Code != 200 {
					t.Errorf("after CheckEvery, the request that asks again: %d, want 200 without waiting", w.Code)
				}
				eventually(t, "the background check records the end", func() bool { _, ok := g.ended.Has("p1-ab"); return ok })
				if w := get(g.h, "p1-ab"); w.Code != 401 {
					t.Errorf("after CheckEvery, with the API back: %d, want 401", w.Code)
				}
			}
		})
	}
}

func TestMiddlewareCacheBounded(t *testing.T) {
	t.Parallel()
	g := newAPIGuarded(t, 200, activeBody, nil) // Ended's Max, and so the cache's, is 3
	for i := range 10 {
		get(g.h, fmt.Sprint("p1-", i))
	}
	for _, sid := range []string{"p1-9", "p1-8", "p1-7"} {
		get(g.h, sid)
	}
	if n := g.calls(); n != 10 {
		t.Errorf("%d calls, want 10: the three newest answers are cached", n)
	}
	get(g.h, "p1-6")
	if n := g.calls(); n != 11 {
		t.Errorf("%d calls, want 11: the fourth newest answer was dropped", n)
	}
}

func TestMiddlewareCanceledFollowerPasses(t *testing.T) {
	t.Parallel()
	g := newAPIGuarded(t, 200, expiredBody, &http.Client{Timeout: 5 * time.Second})
	g.api.hold(true)
	leader := make(chan int)
	go func() { leader <- get(g.h, "p1-ab").Code }()
	for g.calls() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
	req.Header.Set("X-Test-SID", "p1-ab")
	w := httptest.NewRecorder()
	g.h.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("follower whose client left: %d", w.Code)
	}
	g.api.hold(false)
	g.api.srv.CloseClientConnections()
	<-leader
}

func TestMiddlewarePanicsWithoutOptions(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]MiddlewareOptions{
		"no SessionID": {Ended: NewEnded(EndedOptions{})},
		"no Ended":     {SessionID: sidHeader},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Middleware did not panic")
				}
			}()
			Middleware(o)
		})
	}
}

// eventually polls cond until it holds, for at most 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after 5 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// While the API is down, no request waits for it: only the first one
// that found it down did.
func TestMiddlewareNeverWaitsOnADownAPI(t *testing.T) {
	t.Parallel()
	g := newAPIGuarded(t, 200, activeBody, &http.Client{Timeout: 300 * time.Millisecond})
	g.api.hold(true)
	start := time.Now()
	get(g.h, "p1-a") // finds the API down, within its timeout
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("the first request took %v; the hold did not work", d)
	}
	for i, sid := range []string{"p1-b", "p1-c", "p1-d"} {
		start := time.Now()
		if w := get(g.h, sid); w.Code != 200 {
			t.Errorf("request %d: %d, want 200", i, w.Code)
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("request %d waited %v on a down API", i, d)
		}
	}
	g.api.hold(false)
}
