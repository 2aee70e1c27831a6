package backend

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presence-dev/presence/httpapi"
	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
	"github.com/presence-dev/presence/webhook"
)

// The tests in this file run a Go application that follows the package's
// documentation (Reporter at login and in Middleware, WebhookHandler,
// Ended) against a real presence node on 127.0.0.1 and a real Redis. The
// node runs in virtual time: the test moves its clock, while the
// application reports in real time.

const e2eKey = "backend-e2e-api-key-0123"

// presenceNode is one presence node on a fixed address, which a test may
// stop and start again, keeping its Redis.
type presenceNode struct {
	t      *testing.T
	addr   string
	clock  *clock.Manual
	client *redis.Client
	prefix string
	hooks  string // the application's webhook URL

	store  *session.RedisStore
	reg    *hub.Registry
	srv    *http.Server
	sender *webhook.Sender
}

func requireE2ERedis(t *testing.T) *redis.Client {
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

func newPresenceNode(t *testing.T, client *redis.Client, hooks string) *presenceNode {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	n := &presenceNode{t: t, addr: addr, clock: clock.NewManual(time.Now()), client: client,
		prefix: "presence-test:" + hex.EncodeToString(b) + ":", hooks: hooks}
	t.Cleanup(func() {
		n.stop()
		keys, _ := client.Keys(context.Background(), n.prefix+"*").Result()
		if len(keys) > 0 {
			client.Del(context.Background(), keys...)
		}
	})
	n.start()
	return n
}

func (n *presenceNode) url() string { return "http://" + n.addr }

// start runs the node: limits of 20 s and 30 s, a recovery grace of 2 s.
func (n *presenceNode) start() {
	t := n.t
	t.Helper()
	var err error
	n.store, err = session.NewRedisStore(session.RedisOptions{Client: n.client, Prefix: n.prefix, Clock: n.clock})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: secret,
		Defaults: session.Limits{WarnAfter: 20 * time.Second, ExpireAfter: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	n.sender, err = webhook.NewSender(webhook.Options{URL: n.hooks, Secret: secret, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n.reg, err = hub.New(hub.Options{Store: n.store, Verifier: verifier, Clock: n.clock, RecoveryGrace: 2 * time.Second,
		OnEnd: func(ctx context.Context, e hub.End) bool {
			return n.sender.Send(ctx, webhook.Event{SID: e.SID, UID: e.UID, Reason: string(e.Reason), At: e.At})
		}})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Options{Registry: n.reg, Verifier: verifier, Store: n.store, APIKey: e2eKey})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for range 50 { // the stopped node's port may take a moment to free
		if ln, err = net.Listen("tcp", n.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	n.srv = &http.Server{Handler: api}
	go n.srv.Serve(ln)
}

// stop stops the node as a crash would, as far as the application and
// the tabs can tell; its Redis keeps everything.
func (n *presenceNode) stop() {
	if n.reg == nil {
		return
	}
	n.srv.Close()
	n.reg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.sender.Close(ctx)
	n.store.Close()
	n.reg = nil
}

func (n *presenceNode) status(sid string) string {
	n.t.Helper()
	s, err := n.reg.Lookup(n.t.Context(), sid)
	if err != nil {
		n.t.Fatal(err)
	}
	return string(s.Status)
}

// app is the Go application of the documentation: logins registered by a
// Reporter, every request reported by Middleware, ends learnt from the
// webhook.
type app struct {
	t        *testing.T
	srv      *httptest.Server
	reporter *Reporter
	ended    *Ended
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{t: t, ended: NewEnded(EndedOptions{})}
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/presence", WebhookHandler(WebhookOptions{Secrets: [][]byte{secret}, Ended: a.ended, Logger: discardLogger()}))
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		key := r.FormValue("user") + "-session-key"
		http.SetCookie(w, &http.Cookie{Name: "login", Value: key})
		// The one call the login handler makes: presence knows the
		// session from now on, tab or no tab.
		a.reporter.Login(SessionID(secret, key), Login{UID: r.FormValue("user"), WarnAfter: 20 * time.Second, ExpireAfter: 30 * time.Second})
	})
	mux.Handle("GET /admin/", okHandler) // a page without presence.js
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

// attach connects the application to presence at base, whose clock now
// also tells the application's reports how long ago their activity was:
// a report sent again after the test moved presence's clock (its answer
// lost when presence stopped) is then as old to presence as it is.
func (a *app) attach(base string, now func() time.Time) {
	a.t.Helper()
	client, err := NewClient(ClientOptions{BaseURL: base, APIKey: e2eKey, HTTP: &http.Client{Timeout: 500 * time.Millisecond}})
	if err != nil {
		a.t.Fatal(err)
	}
	a.reporter, err = NewReporter(ReporterOptions{Client: client, Ended: a.ended, FlushEvery: 50 * time.Millisecond, Logger: discardLogger(), Now: now})
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { a.reporter.Close(context.Background()) })
	h := Middleware(MiddlewareOptions{
		SessionID: func(r *http.Request) (string, bool) {
			c, err := r.Cookie("login")
			if err != nil || r.URL.Path == "/login" {
				return "", false
			}
			return SessionID(secret, c.Value), true
		},
		Ended:    a.ended,
		Reporter: a.reporter,
		LoginURL: "/login",
	})(a.srv.Config.Handler)
	a.srv.Config.Handler = h
}

func (a *app) login(user string) string {
	a.t.Helper()
	resp, err := http.PostForm(a.srv.URL+"/login", url.Values{"user": {user}})
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return SessionID(secret, user+"-session-key")
}

// page requests a page of the admin, which loads no presence.js, as user,
// and returns the status and how long it took.
func (a *app) page(user string) (int, time.Duration) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.srv.URL+"/admin/", nil)
	req.AddCookie(&http.Cookie{Name: "login", Value: user + "-session-key"})
	c := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

func TestEnforcedWithoutJavaScript(t *testing.T) {
	client := requireE2ERedis(t)
	a := newApp(t)
	node := newPresenceNode(t, client, a.srv.URL+"/hooks/presence")
	a.attach(node.url(), node.clock.Now)
	node.clock.Advance(3 * time.Second) // past the node's start grace

	// A login with no tab is known to presence, times out by itself, and
	// its end reaches the application, which refuses the next request.
	alice := a.login("alice")
	eventually(t, "alice registered", func() bool { return node.status(alice) == "active" })
	node.clock.Advance(30 * time.Second)
	eventually(t, "alice's end delivered", func() bool { _, ok := a.ended.Has(alice); return ok })
	if code, _ := a.page("alice"); code != http.StatusSeeOther {
		t.Errorf("alice's request after her session ended: %d, want 303 to the login", code)
	}

	// Requests to pages without the script keep a session alive past
	// expire_after, and dismiss the warning its tab shows.
	bob := a.login("bob")
	eventually(t, "bob registered", func() bool { return node.status(bob) == "active" })
	tok, err := Mint(secret, session.Claims{SID: bob, WarnAfter: 20, ExpireAfter: 30})
	if err != nil {
		t.Fatal(err)
	}
	tab := tabtest.Dial(t, node.url(), nil)
	tab.Hello(tok, 0)
	node.clock.Advance(25 * time.Second)
	tab.Expect(protocol.TypeWarn)
	if code, _ := a.page("bob"); code != 200 {
		t.Fatalf("bob's page: %d", code)
	}
	if st, _ := tab.ExpectWithin(protocol.TypeState, 2*time.Second); st.Status != protocol.StatusActive {
		t.Errorf("bob's tab after his request: %+v, want the warning dismissed", st)
	}
	node.clock.Advance(10 * time.Second) // 35 s after the login
	if s := node.status(bob); s != "active" {
		t.Errorf("bob's session 35 s after his login, 10 s after his request: %s, want active", s)
	}
	tab.ExpectNothing()
}

func TestPresenceOutageLogsNobodyOut(t *testing.T) {
	client := requireE2ERedis(t)
	a := newApp(t)
	node := newPresenceNode(t, client, a.srv.URL+"/hooks/presence")
	a.attach(node.url(), node.clock.Now)
	node.clock.Advance(3 * time.Second)
	carol, dave := a.login("carol"), a.login("dave")
	eventually(t, "logins registered", func() bool { return node.status(carol) == "active" && node.status(dave) == "active" })

	node.stop()
	node.clock.Advance(40 * time.Second) // both sessions' deadlines pass during the outage
	// With presence down, requests answer at once, and dave's count.
	for range 5 {
		code, took := a.page("dave")
		if code != 200 || took > 200*time.Millisecond {
			t.Errorf("dave's request with presence down: %d in %v, want 200 at once", code, took)
		}
		time.Sleep(20 * time.Millisecond)
	}

	node.start()
	eventually(t, "dave's queued activity delivered", func() bool {
		s, err := node.reg.Lookup(t.Context(), dave)
		return err == nil && s.Status == "active" && s.Idle < 5*time.Second
	})
	if _, ok := a.ended.Has(carol); ok {
		t.Fatal("carol ended during presence's grace")
	}
	node.clock.Advance(2*time.Second + time.Second) // the grace, then a claim
	eventually(t, "carol's end delivered", func() bool { _, ok := a.ended.Has(carol); return ok })
	if code, _ := a.page("carol"); code != http.StatusSeeOther {
		t.Errorf("carol after presence came back: %d, want 303", code)
	}
	if code, _ := a.page("dave"); code != 200 {
		t.Errorf("dave after presence came back: %d, want 200", code)
	}
	if s := node.status(dave); s != "active" {
		t.Errorf("dave's session: %s, want active", s)
	}
}
