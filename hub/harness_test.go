package hub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/session"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// testTab is a tab as the tests drive it; see package tabtest.
type testTab = tabtest.Tab

// eventually polls cond until it holds.
var eventually = tabtest.Eventually

// env is one presence node on 127.0.0.1 serving /ws in virtual time, with
// warn after 5 s and expire after 10 s unless a test says otherwise.
type env struct {
	t        *testing.T
	endsMu   sync.Mutex
	ends     []End // reported through Options.OnEnd
	clock    *clock.Manual
	store    *session.MemoryStore
	verifier *session.Verifier
	reg      *Registry
	srv      *httptest.Server
}

func newEnv(t *testing.T, tweak ...func(*Options)) *env {
	t.Helper()
	// Tokens are stamped by the real clock, so virtual time starts now.
	clk := clock.NewManual(time.Now().Truncate(time.Second))
	store := session.NewMemoryStore(session.MemoryOptions{Clock: clk, Retention: 13 * time.Hour})
	verifier, err := session.NewVerifier(session.VerifierOptions{
		Secret:   testSecret,
		MaxAge:   12 * time.Hour,
		Defaults: testLimits,
		Clock:    clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: clk, store: store, verifier: verifier}
	opts := Options{Store: store, Verifier: verifier, Clock: clk, OnEnd: e.recordEnd}
	for _, f := range tweak {
		f(&opts)
	}
	reg, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", reg.ServeWS)
	srv := httptest.NewServer(mux)
	e.reg, e.srv = reg, srv
	t.Cleanup(func() {
		reg.Close()
		srv.Close()
		store.Close()
	})
	return e
}

// testLimits are the server's defaults in the tests.
var testLimits = session.Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second}

func (e *env) recordEnd(_ context.Context, end End) bool {
	e.endsMu.Lock()
	defer e.endsMu.Unlock()
	e.ends = append(e.ends, end)
	return true
}

// endsSoFar returns the ends reported so far.
func (e *env) endsSoFar() []End {
	e.endsMu.Lock()
	defer e.endsMu.Unlock()
	return append([]End(nil), e.ends...)
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

func (e *env) dialWith(t *testing.T, header http.Header) *testTab {
	t.Helper()
	return tabtest.Dial(t, e.srv.URL, header)
}

// lookup reads sid through the Registry's API, as the HTTP surfaces do.
func (e *env) lookup(t *testing.T, sid string) Session {
	t.Helper()
	s, err := e.reg.Lookup(t.Context(), sid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signToken builds a token by hand, following DESIGN.md's recipe:
// base64url (with padding) of ts|b64(json)|HMAC-SHA256(name|ts|b64(json)).
func signToken(secret []byte, ts int64, payload string) string {
	value := base64.URLEncoding.EncodeToString([]byte(payload))
	stamp := strconv.FormatInt(ts, 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(session.CookieName + "|" + stamp + "|" + value))
	return base64.URLEncoding.EncodeToString([]byte(stamp + "|" + value + "|" + string(mac.Sum(nil))))
}
