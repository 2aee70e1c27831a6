package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/session"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

const testAPIKey = "test-api-key-0123456789"

// testTab is a tab as the tests drive it; see package tabtest.
type testTab = tabtest.Tab

// eventually polls cond until it holds.
var eventually = tabtest.Eventually

// env is one whole presence node on 127.0.0.1, every surface of it, in
// virtual time, with warn after 5 s and expire after 10 s.
type env struct {
	t      *testing.T
	endsMu sync.Mutex
	ends   []hub.End // reported through hub.Options.OnEnd
	clock  *clock.Manual
	store  *session.MemoryStore
	reg    *hub.Registry
	srv    *httptest.Server
}

// newEnv starts a node; tweak may change its hub's and its surfaces'
// options.
func newEnv(t *testing.T, tweak ...func(*hub.Options, *Options)) *env {
	t.Helper()
	// Tokens are stamped by the real clock, so virtual time starts now.
	clk := clock.NewManual(time.Now().Truncate(time.Second))
	store := session.NewMemoryStore(session.MemoryOptions{Clock: clk, Retention: 13 * time.Hour})
	verifier, err := session.NewVerifier(session.VerifierOptions{
		Secret:   testSecret,
		MaxAge:   12 * time.Hour,
		Defaults: session.Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second},
		Clock:    clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: clk, store: store}
	hubOpts := hub.Options{Store: store, Verifier: verifier, Clock: clk, OnEnd: e.recordEnd}
	opts := Options{Verifier: verifier, Store: store, APIKey: testAPIKey}
	for _, f := range tweak {
		f(&hubOpts, &opts)
	}
	reg, err := hub.New(hubOpts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Registry = reg
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	e.reg, e.srv = reg, srv
	t.Cleanup(func() {
		reg.Close()
		srv.Close()
		store.Close()
	})
	return e
}

func (e *env) recordEnd(_ context.Context, end hub.End) bool {
	e.endsMu.Lock()
	defer e.endsMu.Unlock()
	e.ends = append(e.ends, end)
	return true
}

// endsSoFar returns the ends reported so far.
func (e *env) endsSoFar() []hub.End {
	e.endsMu.Lock()
	defer e.endsMu.Unlock()
	return append([]hub.End(nil), e.ends...)
}

// token mints a token for sid at the current virtual time.
func (e *env) token(sid string) string {
	e.t.Helper()
	return e.mint(session.Claims{SID: sid})
}

func (e *env) mint(c session.Claims) string {
	e.t.Helper()
	tok, err := session.Mint(testSecret, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// advance moves virtual time; the wheel sees it on its next tick.
func (e *env) advance(d time.Duration) { e.clock.Advance(d) }

func (e *env) dial(t *testing.T) *testTab {
	t.Helper()
	return tabtest.Dial(t, e.srv.URL, nil)
}

// ping calls /ping with the token as a cookie and returns the body.
func (e *env) ping(t *testing.T, token, query string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/ping"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: token})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ping%s: status %d %s", query, resp.StatusCode, body)
	}
	return string(body)
}

// api calls the server API and decodes its answer.
func (e *env) api(t *testing.T, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, path, raw)
	}
	return resp.StatusCode, out
}

func errorCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}
