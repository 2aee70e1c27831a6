package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// The tests in this file run several presence nodes in one process, each
// with its own registry, wheel and HTTP server, sharing a real Redis, in
// real time: the store's clock is Redis's. Tokens say warn after 2 s and
// expire after 4 s to keep them short.

// requireRedis returns a client of the Redis at addr (PRESENCE_TEST_REDIS
// or 127.0.0.1:6379), skipping the test without one unless CI=true.
func requireRedis(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Redis at %s: %v", addr, err)
		}
		t.Skipf("skipped: no Redis at %s", addr)
	}
	return c
}

func testRedisAddr() string {
	if a := os.Getenv("PRESENCE_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// cluster is several nodes on one Redis under a prefix of their own.
type cluster struct {
	t      *testing.T
	client *redis.Client
	prefix string
	nodes  []*node
}

type node struct {
	reg   *Registry
	srv   *httptest.Server
	store *session.RedisStore
}

func newCluster(t *testing.T, client *redis.Client, n int) *cluster {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	c := &cluster{t: t, client: client, prefix: "presence-test:" + hex.EncodeToString(b) + ":"}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := client.Keys(ctx, c.prefix+"*").Result()
		if len(keys) > 0 {
			client.Del(ctx, keys...)
		}
	})
	for range n {
		c.nodes = append(c.nodes, c.start(""))
	}
	return c
}

// start runs a node; addr, when set, is the address it must listen on.
func (c *cluster) start(addr string) *node {
	t := c.t
	t.Helper()
	store, err := session.NewRedisStore(session.RedisOptions{Client: c.client, Prefix: c.prefix})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := New(Options{
		Store: store, Verifier: verifier, Tick: 20 * time.Millisecond,
		Broker: NewRedisBroker(c.client, c.prefix),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", reg.ServeWS)
	mux.HandleFunc("/ping", reg.ServePing)
	srv := httptest.NewUnstartedServer(mux)
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	n := &node{reg: reg, srv: srv, store: store}
	t.Cleanup(func() { n.kill() })
	return n
}

// kill stops a node the way SIGKILL would, as far as its tabs can tell:
// every connection drops without a close frame.
func (n *node) kill() {
	n.srv.CloseClientConnections()
	n.reg.Close()
	n.srv.Close()
	n.store.Close()
}

func multiToken(t *testing.T, sid string) string {
	t.Helper()
	tok, err := session.Mint(testSecret, session.Claims{SID: sid, WarnAfter: 2, ExpireAfter: 4})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expectWithin waits for a frame of type typ and returns it with the time
// it took to come.
func (tt *testTab) expectWithin(typ protocol.Type, d time.Duration) (protocol.ServerFrame, time.Duration) {
	tt.t.Helper()
	start := time.Now()
	f := tt.expect(typ)
	took := time.Since(start)
	if took > d {
		tt.t.Errorf("%s came after %s, want within %s", typ, took.Round(time.Millisecond), d)
	}
	return f, took
}

func TestNodesShareWarnAndExpire(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok := multiToken(t, "shared")
	a := dialURL(t, c.nodes[0].srv.URL, nil)
	b := dialURL(t, c.nodes[1].srv.URL, nil)
	a.hello(tok, 0)
	b.hello(tok, 0)
	a.expectWithin(protocol.TypeWarn, 3*time.Second)
	b.expectWithin(protocol.TypeWarn, time.Second)
	a.expectWithin(protocol.TypeExpire, 3*time.Second)
	b.expectWithin(protocol.TypeExpire, time.Second)
	a.expectClose(statusSessionEnded)
	b.expectClose(statusSessionEnded)
}

// Activity on one node dismisses the warning on another within a second.
func TestActivityOnOneNodeDismissesWarningOnAnother(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok := multiToken(t, "dismiss")
	a := dialURL(t, c.nodes[0].srv.URL, nil)
	b := dialURL(t, c.nodes[1].srv.URL, nil)
	a.hello(tok, 0)
	b.hello(tok, 0)
	a.expect(protocol.TypeWarn)
	b.expect(protocol.TypeWarn)

	start := time.Now()
	b.activity(0)
	b.expect(protocol.TypeState)
	st, _ := a.expectWithin(protocol.TypeState, time.Second)
	if st.Status != protocol.StatusActive {
		t.Errorf("state on node 1 = %+v, want active", st)
	}
	t.Logf("cross-node dismissal latency: %s", time.Since(start).Round(time.Millisecond))
}

// Logging out on one node ends the tabs on the other at once.
func TestLogoutOnOneNodeReachesAnother(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 3)
	tok := multiToken(t, "logout")
	var tabs []*testTab
	for _, n := range c.nodes {
		tt := dialURL(t, n.srv.URL, nil)
		tt.hello(tok, 0)
		tabs = append(tabs, tt)
	}
	tabs[2].send(`{"type":"logout"}`)
	for i, tt := range tabs {
		f, _ := tt.expectWithin(protocol.TypeExpire, time.Second)
		if f.Reason != protocol.ReasonLogout {
			t.Errorf("tab %d: expire reason %q, want logout", i, f.Reason)
		}
	}
}

// A node killed outright loses nothing: its tab reconnects to another
// node, the session keeps its last activity, and a session whose tabs are
// all gone still answers "logout" once past its deadline.
func TestKilledNodeLosesNothing(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok := multiToken(t, "killed")
	a := dialURL(t, c.nodes[0].srv.URL, nil)
	a.hello(tok, 0)
	time.Sleep(time.Second)
	a.activity(0) // the last activity, recorded through node 1 only
	a.sync()
	lastActivity := time.Now()

	c.nodes[0].kill()
	a.expectClose(-1) // dropped without a close frame

	// The tab reconnects to node 2 and reports how long it has been idle.
	b := dialURL(t, c.nodes[1].srv.URL, nil)
	st := b.hello(tok, time.Since(lastActivity).Milliseconds())
	if st.Status != protocol.StatusActive || st.IdleMS > 500 {
		t.Fatalf("state on node 2 = %+v, want active with the activity seen on node 1", st)
	}
	b.expectWithin(protocol.TypeWarn, 2500*time.Millisecond)
	b.conn.CloseNow()

	// No tab anywhere: the store alone still ends the session on time.
	deadline := lastActivity.Add(4 * time.Second)
	time.Sleep(time.Until(deadline) + 100*time.Millisecond)
	if got := pingURL(t, c.nodes[1].srv.URL, tok); got != `"logout"` {
		t.Errorf("ping past the deadline = %s, want \"logout\"", got)
	}
}

// pingURL pings base as a tab that has seen no activity lately, which
// changes nothing (a larger idleFor never moves the last activity).
func pingURL(t *testing.T, base, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/ping?idleFor=3600", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf [64]byte
	n, _ := resp.Body.Read(buf[:])
	return string(buf[:n])
}

// A Redis restart mid-session (one that keeps nothing on disk) logs
// nobody out: activity seen during the outage is kept by the node and
// written again once Redis is back, and the nodes restore what Redis
// forgot.
func TestRedisRestartCausesNoFalseLogout(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("skipped: redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	startRedis := func() *exec.Cmd {
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		deadline := time.Now().Add(5 * time.Second)
		for {
			if conn, err := net.Dial("tcp", addr); err == nil {
				conn.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatalf("redis-server on %s did not start", addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	redisProc := startRedis()
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: 1})
	t.Cleanup(func() { client.Close() })
	c := newCluster(t, client, 2)

	tok := multiToken(t, "restart")
	a := dialURL(t, c.nodes[0].srv.URL, nil)
	b := dialURL(t, c.nodes[1].srv.URL, nil)
	a.hello(tok, 0)
	b.hello(tok, 0)

	redisProc.Process.Kill()
	redisProc.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err = c.nodes[0].store.Ping(ctx)
	cancel()
	if err == nil {
		t.Fatal("Ping succeeded with Redis down; /readyz would not say 503")
	}
	// The person keeps working in tab b while Redis is down, past the
	// moment the session would have been warned and then expired had the
	// activity been lost.
	outageEnd := time.Now().Add(3 * time.Second)
	for time.Now().Before(outageEnd) {
		b.activity(0)
		time.Sleep(500 * time.Millisecond)
	}
	startRedis()
	b.activity(0)
	lastActivity := time.Now()

	// Nobody is logged out; the warning comes 2 s after the last activity.
	time.Sleep(1500 * time.Millisecond)
	for i, tt := range []*testTab{a, b} {
		for len(tt.frames) > 0 {
			if f := <-tt.frames; f.Type == protocol.TypeExpire || f.Type == protocol.TypeWarn {
				t.Fatalf("tab %d got %+v %s after the last activity, want nothing yet", i, f, time.Since(lastActivity).Round(time.Millisecond))
			}
		}
	}
	if got := pingURL(t, c.nodes[0].srv.URL, tok); got == `"logout"` {
		t.Fatal("the session was logged out by the Redis restart")
	}
	// Then the warning comes on time, in both tabs.
	a.expectWithin(protocol.TypeWarn, 2*time.Second)
	b.expectWithin(protocol.TypeWarn, time.Second)
}

// A tab joining on another node, its hello being activity, lifts the
// warning shown by the first node's tabs at once.
func TestHelloOnAnotherNodeDismissesWarning(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok := multiToken(t, "hello-dismiss")
	a := dialURL(t, c.nodes[0].srv.URL, nil)
	a.hello(tok, 0)
	a.expect(protocol.TypeWarn)
	b := dialURL(t, c.nodes[1].srv.URL, nil)
	b.hello(tok, 0)
	if st, _ := a.expectWithin(protocol.TypeState, time.Second); st.Status != protocol.StatusActive {
		t.Errorf("state on node 1 = %+v, want active", st)
	}
}

// The API on a node that never saw a session's token reads it with the
// session's own limits: a session whose token gives it longer than the
// server's defaults is not ended by that read.
func TestAPIOnAnotherNodeKeepsTheSessionsLimits(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok, err := session.Mint(testSecret, session.Claims{SID: "long", WarnAfter: 3000, ExpireAfter: 3600})
	if err != nil {
		t.Fatal(err)
	}
	a := dialURL(t, c.nodes[0].srv.URL, nil)
	a.hello(tok, 601_000) // idle past the defaults' 600 s, within the token's 3600 s
	api := httptest.NewServer(c.nodes[1].reg.ServeAPI(testAPIKey))
	defer api.Close()
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/api/v1/sessions/long", nil)
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Status    string `json:"status"`
		ExpireInS int64  `json:"expire_in_s"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if body.Status != "active" || body.ExpireInS < 2990 || body.ExpireInS > 2999 {
		t.Errorf("API on the other node: %+v, want active with about 2999 s left", body)
	}
	a.expectNothing()
}
