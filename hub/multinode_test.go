package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// The tests in this file run several presence nodes in one process, each
// with its own registry, wheel and HTTP server, sharing a real Redis. They
// run in virtual time: one manual clock drives every node's wheel and is
// the clock the Redis store's rules run on, instead of Redis TIME. Nudges
// between nodes cross Redis in real time, as in production. Tokens say
// warn after 2 s and expire after 4 s.

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
	grace  time.Duration // each node's RecoveryGrace; see newCluster
	endsMu sync.Mutex
	ends   []End // reported by any node
	client *redis.Client
	prefix string
	clock  *clock.Manual
	nodes  []*node

	// flushEvery is each node's Options.FlushEvery: 5 s, as presence runs
	// on Redis, which makes 200 ms for the tests' 2 s warn_after.
	flushEvery time.Duration
	// wrap, when set, gives a starting node its store through it.
	wrap func(*session.RedisStore) session.Store
	// dropEnds is how many of the next ends the nodes fail to hand on, as
	// a node killed between the store's end and the webhook's queue does.
	dropEnds atomic.Int32
}

type node struct {
	reg    *Registry
	srv    *httptest.Server
	store  *session.RedisStore
	killed bool

	// The nudge counts settle starts from; see rebase.
	baseIn, baseOut float64
}

func newCluster(t *testing.T, client *redis.Client, n int) *cluster {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	// Tokens are stamped by the real clock, so virtual time starts now.
	// The nodes hold no idle ends when they start: the tests of that
	// grace set their own before they start a node.
	c := &cluster{t: t, client: client, prefix: "presence-test:" + hex.EncodeToString(b) + ":",
		clock: clock.NewManual(time.Now()), grace: -1, flushEvery: 5 * time.Second}
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
	// Nudges published before a node's subscription is confirmed would
	// be lost, and virtual time lets a test publish within milliseconds.
	waitSubscribed(t, client, c.prefix, int64(n))
	return c
}

// start runs a node; addr, when set, is the address it must listen on.
func (c *cluster) start(addr string) *node {
	t := c.t
	t.Helper()
	store, err := session.NewRedisStore(session.RedisOptions{Client: c.client, Prefix: c.prefix, Clock: c.clock})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: testSecret, Clock: c.clock})
	if err != nil {
		t.Fatal(err)
	}
	var nodeStore session.Store = store
	if c.wrap != nil {
		nodeStore = c.wrap(store)
	}
	reg, err := New(Options{
		Store: nodeStore, Verifier: verifier, Clock: c.clock,
		FlushEvery:    c.flushEvery,
		Broker:        NewRedisBroker(c.client, c.prefix),
		RecoveryGrace: c.grace,
		OnEnd: func(_ context.Context, e End) bool {
			if c.dropEnds.Add(-1) >= 0 {
				return false
			}
			c.endsMu.Lock()
			c.ends = append(c.ends, e)
			c.endsMu.Unlock()
			return true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(reg.ServeWS))
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
	n.killed = true
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

// advance moves virtual time once the nodes have settled, so that time
// never moves under a decision and a test runs the same way every time.
func (c *cluster) advance(d time.Duration) {
	c.t.Helper()
	c.settle()
	c.clock.Advance(d)
}

// settle waits until every live node has run the deadlines due by now,
// decided them on the store, published every nudge it decided and
// received every nudge the others published. A nudge is counted as
// unpublished before any tab can see its cause, and as received only
// after its check is queued, so nothing slips between the counts.
func (c *cluster) settle() {
	c.t.Helper()
	var live []*node
	for _, n := range c.nodes {
		if !n.killed {
			live = append(live, n)
		}
	}
	counts := func() []float64 {
		var v []float64
		for _, n := range live {
			v = append(v, testutil.ToFloat64(n.reg.metrics.nudgesIn)-n.baseIn,
				testutil.ToFloat64(n.reg.metrics.nudgesOut)-n.baseOut)
		}
		return v
	}
	eventually(c.t, "nodes settled", func() bool {
		// The nodes are read one after another: the counts must not move
		// while they are, or a nudge could slip between two reads.
		before := counts()
		for _, n := range live {
			if !n.reg.wheel.caughtUp(c.clock.Now()) || !n.reg.due.idle() || n.reg.unpublished.Load() != 0 ||
				n.reg.claimer.pending.Load() != 0 {
				return false
			}
		}
		after := counts()
		if !slices.Equal(before, after) {
			return false
		}
		var published float64
		for i := range live {
			published += after[2*i+1]
		}
		for i := range live {
			// Every nudge reaches every other node.
			if after[2*i] < published-after[2*i+1] {
				return false
			}
		}
		return true
	})
}

// rejoin waits, after an outage of Redis, until every live node has
// subscribed again, and forgets the nudges lost meanwhile, which the
// nodes made up for by re-reading their sessions.
func (c *cluster) rejoin() {
	c.t.Helper()
	var live int64
	for _, n := range c.nodes {
		if !n.killed {
			live++
		}
	}
	waitSubscribed(c.t, c.client, c.prefix, live)
	for _, n := range c.nodes {
		n.baseIn = testutil.ToFloat64(n.reg.metrics.nudgesIn)
		n.baseOut = testutil.ToFloat64(n.reg.metrics.nudgesOut)
	}
}

// endsSoFar returns the ends the nodes reported so far.
func (c *cluster) endsSoFar() []End {
	c.endsMu.Lock()
	defer c.endsMu.Unlock()
	return append([]End(nil), c.ends...)
}

// dial connects a tab to node n.
func (c *cluster) dial(n int) *testTab {
	c.t.Helper()
	return tabtest.Dial(c.t, c.nodes[n].srv.URL, nil)
}

// status reads sid on node n through the Registry's API.
func (c *cluster) status(n int, sid string) session.Position {
	c.t.Helper()
	s, err := c.nodes[n].reg.Lookup(c.t.Context(), sid)
	if err != nil {
		c.t.Fatalf("lookup %s on node %d: %v", sid, n+1, err)
	}
	return s.Position
}

func TestNodesShareWarnAndExpire(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok := multiToken(t, "shared")
	a, b := c.dial(0), c.dial(1)
	a.Hello(tok, 0)
	b.Hello(tok, 0)
	c.advance(1900 * time.Millisecond)
	a.ExpectNothing()
	b.ExpectNothing()
	c.advance(100 * time.Millisecond)
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)
	c.advance(1900 * time.Millisecond)
	a.ExpectNothing()
	b.ExpectNothing()
	c.advance(100 * time.Millisecond)
	a.Expect(protocol.TypeExpire)
	b.Expect(protocol.TypeExpire)
	a.ExpectClose(protocol.CloseSessionEnded)
	b.ExpectClose(protocol.CloseSessionEnded)
}

// Activity on one node dismisses the warning on another within a second
// of real time: the nudge crosses Redis.
func TestActivityOnOneNodeDismissesWarningOnAnother(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok := multiToken(t, "dismiss")
	a, b := c.dial(0), c.dial(1)
	a.Hello(tok, 0)
	b.Hello(tok, 0)
	c.advance(2 * time.Second)
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)

	start := time.Now()
	b.Activity(0)
	b.Expect(protocol.TypeState)
	st, _ := a.ExpectWithin(protocol.TypeState, time.Second)
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
	for i := range c.nodes {
		tt := c.dial(i)
		tt.Hello(tok, 0)
		tabs = append(tabs, tt)
	}
	tabs[2].Send(`{"type":"logout"}`)
	for i, tt := range tabs {
		f, _ := tt.ExpectWithin(protocol.TypeExpire, time.Second)
		if f.Reason != protocol.ReasonLogout {
			t.Errorf("tab %d: expire reason %q, want logout", i, f.Reason)
		}
	}
}

// A node killed outright loses nothing: its tab reconnects to another
// node, the session keeps its last activity, and a session whose tabs are
// all gone still ends on time.
func TestKilledNodeLosesNothing(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok := multiToken(t, "killed")
	a := c.dial(0)
	a.Hello(tok, 0)
	c.advance(time.Second)
	a.Activity(0) // the last activity, recorded through node 1 only
	a.Sync()
	lastActivity := c.clock.Now()

	c.nodes[0].kill()
	a.ExpectClose(tabtest.Dropped)

	// The tab reconnects to node 2 a moment later. It says it has been
	// idle for longer than that (its own view is older): node 2 knows
	// better from the store.
	c.advance(300 * time.Millisecond)
	b := c.dial(1)
	st := b.Hello(tok, 1500)
	if st.Status != protocol.StatusActive || st.IdleMS != 300 {
		t.Fatalf("state on node 2 = %+v, want active, idle 300 ms: the activity seen on node 1", st)
	}
	c.advance(lastActivity.Add(2*time.Second).Sub(c.clock.Now()) - 100*time.Millisecond)
	b.ExpectNothing()
	c.advance(100 * time.Millisecond)
	b.Expect(protocol.TypeWarn)
	b.Conn.CloseNow()

	// No tab anywhere: the store alone still ends the session on time.
	if pos := c.status(1, "killed"); pos.Status != session.StatusWarning {
		t.Fatalf("before the deadline: %+v, want warning", pos)
	}
	c.advance(lastActivity.Add(4 * time.Second).Sub(c.clock.Now()))
	if pos := c.status(1, "killed"); pos.Status != session.StatusExpired {
		t.Errorf("past the deadline: %+v, want expired", pos)
	}
}

// privateRedis runs a redis-server of the test's own, keeping nothing on
// disk, and returns a client of it that gives up on it at once while it
// is down, a stop that kills it, and a start that starts it again, empty.
func privateRedis(t *testing.T) (client *redis.Client, stop, start func()) {
	t.Helper()
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
	dir := t.TempDir()
	var proc *exec.Cmd
	start = func() {
		_, port, _ := net.SplitHostPort(addr)
		proc = exec.Command(server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		cmd := proc
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		deadline := time.Now().Add(5 * time.Second)
		for {
			if conn, err := net.Dial("tcp", addr); err == nil {
				conn.Close()
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("redis-server on %s did not start", addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	start()
	// A client that gives up on a dead Redis at once, so that an outage
	// takes a test little real time.
	client = redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true,
		MaxRetries: 1, MaxRetryBackoff: 20 * time.Millisecond, DialerRetries: 1})
	t.Cleanup(func() { client.Close() })
	stop = func() {
		proc.Process.Kill()
		proc.Wait()
	}
	return client, stop, start
}

// A Redis restart mid-session (one that keeps nothing on disk) logs
// nobody out: activity seen during the outage is kept by the node and
// written again once Redis is back, and the nodes restore what Redis
// forgot.
func TestRedisRestartCausesNoFalseLogout(t *testing.T) {
	client, stopRedis, startRedis := privateRedis(t)
	c := newCluster(t, client, 2)

	tok := multiToken(t, "restart")
	a, b := c.dial(0), c.dial(1)
	a.Hello(tok, 0)
	b.Hello(tok, 0)
	// The nudges of the hellos reach the other node before Redis stops:
	// one still in Redis's output when it dies is lost, and the nodes'
	// counts would never agree.
	c.settle()

	stopRedis()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err := c.nodes[0].store.Ping(ctx)
	cancel()
	if err == nil {
		t.Fatal("Ping succeeded with Redis down; /readyz would not say 503")
	}
	// The person keeps working in tab b while Redis is down, past the
	// moment the session would have been warned and then expired had the
	// activity been lost.
	for range 6 {
		c.advance(500 * time.Millisecond)
		b.Activity(0)
		b.Sync()
	}
	startRedis()
	// go-redis fails fast for a while after failed dials; the test goes
	// on once the nodes' client reaches the new Redis.
	eventually(t, "Redis reachable again", func() bool { return client.Ping(t.Context()).Err() == nil })
	c.rejoin()
	b.Activity(0)
	b.Sync()
	lastActivity := c.clock.Now()

	// Nobody is logged out; the warning comes 2 s after the last activity.
	for range 3 {
		c.advance(500 * time.Millisecond)
	}
	c.settle()
	for i, tt := range []*testTab{a, b} {
		for _, f := range tt.Received() {
			if f.Type == protocol.TypeExpire || f.Type == protocol.TypeWarn {
				t.Fatalf("tab %d got %+v %s after the last activity, want nothing yet", i, f, c.clock.Now().Sub(lastActivity))
			}
		}
	}
	if pos := c.status(0, "restart"); pos.Status != session.StatusActive {
		t.Fatalf("the session is %+v after the Redis restart, want active", pos)
	}
	// Then the warning comes on time, in both tabs.
	c.advance(lastActivity.Add(2 * time.Second).Sub(c.clock.Now()))
	a.Expect(protocol.TypeWarn)
	b.Expect(protocol.TypeWarn)
}

// A tab joining on another node, its hello being activity, lifts the
// warning shown by the first node's tabs at once.
func TestHelloOnAnotherNodeDismissesWarning(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	tok := multiToken(t, "hello-dismiss")
	a := c.dial(0)
	a.Hello(tok, 0)
	c.advance(2 * time.Second)
	a.Expect(protocol.TypeWarn)
	b := c.dial(1)
	b.Hello(tok, 0)
	if st, _ := a.ExpectWithin(protocol.TypeState, time.Second); st.Status != protocol.StatusActive {
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
	a := c.dial(0)
	a.Hello(tok, 601_000) // idle past the defaults' 600 s, within the token's 3600 s
	pos := c.status(1, "long")
	if pos.Status != session.StatusActive || pos.ExpireIn != 2999*time.Second {
		t.Errorf("Lookup on the other node: %+v, want active with 2999 s left", pos)
	}
	a.ExpectNothing()
}

// A session that a node registered, with no tab anywhere, outlives that
// node: another node finds it due in the store and ends it on time, once.
func TestNoTabSessionOutlivesItsNode(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	lim := session.Limits{WarnAfter: 2 * time.Second, ExpireAfter: 4 * time.Second}
	if _, err := c.nodes[0].reg.Report(t.Context(), Report{SID: "orphan", UID: "u1", Limits: lim}); err != nil {
		t.Fatal(err)
	}
	c.nodes[0].kill()
	c.advance(3900 * time.Millisecond)
	c.settle()
	if ends := c.endsSoFar(); len(ends) != 0 {
		t.Fatalf("ended before its deadline: %+v", ends)
	}
	c.advance(100 * time.Millisecond) // the deadline
	c.advance(claimEvery)             // node 2's next claim
	c.settle()
	ends := c.endsSoFar()
	if len(ends) != 1 || ends[0].SID != "orphan" || ends[0].UID != "u1" || ends[0].Reason != session.ReasonIdle {
		t.Fatalf("ends = %+v, want orphan's idle end with its user, once", ends)
	}
	c.advance(10 * time.Second) // past any claim's lease: nothing more
	c.settle()
	if n := len(c.endsSoFar()); n != 1 {
		t.Errorf("%d ends, want 1", n)
	}
}

// An end that its node did not hand on (it died first, or the webhook's
// queue refused it) is reported again by some node once the store's
// ConfirmWithin has passed, and then never again.
func TestEndNotHandedOnIsReportedAgain(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 2)
	lim := session.Limits{WarnAfter: 2 * time.Second, ExpireAfter: 4 * time.Second}
	if _, err := c.nodes[0].reg.Report(t.Context(), Report{SID: "dropped", UID: "u1", Limits: lim}); err != nil {
		t.Fatal(err)
	}
	c.dropEnds.Store(1)
	c.advance(4 * time.Second) // the deadline
	c.advance(claimEvery)      // the next claims
	c.settle()
	if n := c.dropEnds.Load(); n > 0 {
		t.Fatalf("no node decided the end by its deadline (%d drops left)", n)
	}
	if ends := c.endsSoFar(); len(ends) != 0 {
		t.Fatalf("ends = %+v, want none handed on yet", ends)
	}
	c.advance(session.ConfirmWithin) // the confirmation is overdue
	c.advance(claimEvery)
	c.advance(claimEvery)
	c.settle()
	ends := c.endsSoFar()
	if len(ends) != 1 || ends[0].SID != "dropped" || ends[0].UID != "u1" || ends[0].Reason != session.ReasonIdle {
		t.Fatalf("ends = %+v, want dropped's idle end with its user, reported again once", ends)
	}
	c.advance(3 * session.ConfirmWithin)
	c.settle()
	if n := len(c.endsSoFar()); n != 1 {
		t.Errorf("%d ends, want 1: a confirmed end is not reported again", n)
	}
}

// After an outage of every node, with a store that kept its sessions, a
// node that starts holds idle ends for its grace: a tab that reconnects
// with fresh activity keeps its session, though the session's deadline
// passed during the outage, and a session nobody reports for ends when
// the grace does, once.
func TestOutageOfEveryNodeLogsNobodyOut(t *testing.T) {
	c := newCluster(t, requireRedis(t, testRedisAddr()), 1)
	lim := session.Limits{WarnAfter: 2 * time.Second, ExpireAfter: 4 * time.Second}
	for _, sid := range []string{"working", "gone"} {
		if _, err := c.nodes[0].reg.Report(t.Context(), Report{SID: sid, Limits: lim}); err != nil {
			t.Fatal(err)
		}
	}
	c.nodes[0].kill()
	c.advance(10 * time.Second) // presence is down; the person works on in a tab

	c.grace = 3 * time.Second
	c.nodes = append(c.nodes, c.start(""))
	c.rejoin()
	tab := c.dial(1)
	tab.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: multiToken(t, "working"), IdleMS: 500})
	if st := tab.Expect(protocol.TypeState); st.Status != protocol.StatusActive || st.IdleMS != 500 {
		t.Fatalf("state after the outage = %+v, want active, idle 500 ms", st)
	}
	c.advance(2 * time.Second)
	tab.Expect(protocol.TypeWarn) // 2 s after its activity: the session goes on normally
	tab.Activity(0)
	tab.Expect(protocol.TypeState)
	if ends := c.endsSoFar(); len(ends) != 0 {
		t.Fatalf("ended during the grace: %+v", ends)
	}
	c.advance(time.Second + claimEvery) // the grace is over: a claim decides
	c.settle()
	ends := c.endsSoFar()
	if len(ends) != 1 || ends[0].SID != "gone" || ends[0].Reason != session.ReasonIdle {
		t.Fatalf("ends = %+v, want gone's idle end only", ends)
	}
	if want := c.clock.Now().Add(-(13*time.Second + claimEvery)).Add(lim.ExpireAfter); ends[0].At.Sub(want).Abs() > time.Millisecond {
		t.Errorf("gone ended at %v, want its own deadline %v", ends[0].At, want)
	}
	tab.ExpectNothing()
}

// A Redis restart that lost its data brings no ended session back: the
// nodes give back the ended marks they remember, so a token minted before
// the end opens nothing.
func TestRedisRestartRevivesNoEnd(t *testing.T) {
	client, stopRedis, startRedis := privateRedis(t)
	c := newCluster(t, client, 2)
	tok := multiToken(t, "ended")
	a := c.dial(0)
	a.Hello(tok, 0)
	a.Send(`{"type":"logout"}`)
	a.Expect(protocol.TypeExpire)

	stopRedis()
	startRedis() // empty
	eventually(t, "Redis reachable again", func() bool { return client.Ping(t.Context()).Err() == nil })
	c.rejoin() // the nodes resubscribed, and gave back what they remember
	eventually(t, "the end given back", func() bool {
		s, err := c.nodes[1].reg.Lookup(t.Context(), "ended")
		return err == nil && s.Status == session.StatusExpired
	})
	b := c.dial(1)
	b.SendFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: tok})
	if f := b.Expect(protocol.TypeExpire); f.Reason != protocol.ReasonLogout {
		t.Errorf("hello with the old token after the restart: %+v, want expire, logout", f)
	}
	if n := len(c.endsSoFar()); n != 1 {
		t.Errorf("%d ends reported, want the one logout: giving an end back is no new end", n)
	}
}
