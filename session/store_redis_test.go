package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presence-dev/presence/internal/clock"
)

// redisAddr is the Redis the tests use: PRESENCE_TEST_REDIS or the local
// default.
func redisAddr() string {
	if a := os.Getenv("PRESENCE_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// redisForTest returns a client of the test Redis, closed when the test
// ends. Without a reachable Redis it skips the test, or fails it in CI.
func redisForTest(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: redisAddr(), ContextTimeoutEnabled: true})
	tb.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("no Redis at %s: %v", redisAddr(), err)
		}
		tb.Skipf("skipped: no Redis at %s", redisAddr())
	}
	return c
}

// testPrefix returns a key prefix no other test or process uses, and
// deletes every key under it when the test ends.
func testPrefix(tb testing.TB, c *redis.Client) string {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "presence-test:" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("scan %s*: %v", prefix, err)
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("delete %d test keys: %v", len(keys), err)
			}
		}
	})
	return prefix
}

// newRedisForTest returns a RedisStore on c under a fresh prefix, closed
// when the test ends.
func newRedisForTest(tb testing.TB, c *redis.Client, opts RedisOptions) *RedisStore {
	tb.Helper()
	opts.Client = c
	if opts.Prefix == "" {
		opts.Prefix = testPrefix(tb, c)
	}
	s, err := NewRedisStore(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// redisTime returns Redis's clock.
func redisTime(tb testing.TB, c *redis.Client) time.Time {
	tb.Helper()
	now, err := c.Time(context.Background()).Result()
	if err != nil {
		tb.Fatal(err)
	}
	return now.UTC()
}

// TestRedisStore runs the rules every Store follows. Redis's clock moves
// by itself, so the harness pins the store's clock (the script's ARGV
// instead of TIME) at Redis's time when the test starts, and moves it by
// hand: Now is then exactly what the suite expects.
func TestRedisStore(t *testing.T) {
	t.Parallel()
	c := redisForTest(t)
	testStore(t, func(t *testing.T) storeHarness {
		clk := clock.NewManual(redisTime(t, c))
		s := newRedisForTest(t, c, RedisOptions{Clock: clk})
		return storeHarness{
			Store:   s,
			now:     func() time.Time { return unixMicro(clk.Now().UnixMicro()) },
			advance: clk.Advance,
		}
	})
}

func TestRedisOptions(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { c.Close() })
	tests := []struct {
		name    string
		opts    RedisOptions
		wantErr string
	}{
		{"no client", RedisOptions{}, "no Client"},
		{"braces in the prefix", RedisOptions{Client: c, Prefix: "app{1}:"}, "contains { or }"},
		{"retention past Lua's integers", RedisOptions{Client: c, Retention: 200 * 366 * 24 * time.Hour}, "longer than"},
	}
	for _, tt := range tests {
		if _, err := NewRedisStore(tt.opts); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want one with %q", tt.name, err, tt.wantErr)
		}
	}
	s, err := NewRedisStore(RedisOptions{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := "presence:s:{" + strconv.Itoa(bucketOf("abc")) + "}:abc"; s.prefix != "presence:" || s.key("abc") != want {
		t.Errorf("prefix %q, key %q; want %s", s.prefix, s.key("abc"), want)
	}
	if got, want := time.Duration(s.retention)*time.Microsecond, 12*time.Hour+MaxClockSkew; got != want {
		t.Errorf("retention = %v, want %v", got, want)
	}
}

// TestRedisKeys checks the key layout and that every write bounds the
// key's life: an active session lives Retention past its latest deadline,
// an ended mark Retention past the end's discovery.
func TestRedisKeys(t *testing.T) {
	t.Parallel()
	c := redisForTest(t)
	const retention = time.Hour
	s := newRedisForTest(t, c, RedisOptions{Retention: retention})
	ctx := t.Context()
	// wantTTL checks sid's key has TTL within [want-slack, want].
	wantTTLOf := func(s *RedisStore, sid string, want time.Duration) {
		t.Helper()
		key := s.key(sid)
		ttl, err := c.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl > want || ttl < want-2*time.Second {
			t.Errorf("PTTL %s = %v, want about %v", key, ttl, want)
		}
	}
	wantTTL := func(sid string, want time.Duration) {
		t.Helper()
		wantTTLOf(s, sid, want)
	}

	must(t)(s.Touch(ctx, "active", 30*time.Second, Terms{Limits: lim}))
	wantTTL("active", lim.ExpireAfter-30*time.Second+retention)
	must(t)(s.Touch(ctx, "active", 0, Terms{Limits: longLim})) // a longer deadline lengthens it
	wantTTL("active", longLim.ExpireAfter+retention)
	must(t)(s.Touch(ctx, "active", 0, Terms{Limits: lim})) // a shorter one does not shorten it
	wantTTL("active", longLim.ExpireAfter+retention)

	must(t)(s.End(ctx, "logout", ReasonLogout, lim))
	wantTTL("logout", retention)

	// An end that lies far back is kept Retention from its discovery.
	clk := clock.NewManual(redisTime(t, c))
	ps := newRedisForTest(t, c, RedisOptions{Retention: retention, Clock: clk})
	must(t)(ps.Touch(ctx, "idle", 0, Terms{Limits: lim}))
	clk.Advance(3 * time.Hour)
	wantEnded(t, must(t)(ps.Check(ctx, "idle", lim)), unixMicro(clk.Now().UnixMicro()).Add(-3*time.Hour+lim.ExpireAfter), ReasonIdle, true)
	wantTTLOf(ps, "idle", retention)

	h, err := c.HGetAll(ctx, s.key("logout")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"last", "until", "endedAt", "reason", "flags", "by", "warn", "exp", "uid"} {
		if _, ok := h[f]; !ok {
			t.Errorf("hash %v lacks field %s", h, f)
		}
	}
	if h["reason"] != "2" {
		t.Errorf("reason = %q, want 2 (logout)", h["reason"])
	}

	// A Check of an unknown session writes nothing.
	must(t)(s.Check(ctx, "unknown", lim))
	if n := c.Exists(ctx, s.key("unknown")).Val(); n != 0 {
		t.Errorf("Check created a key")
	}

	// A session's hash and its bucket's deadline set share a Cluster slot.
	for _, sid := range []string{"active", "logout", "x.y:z-1"} {
		if a, b := clusterSlotTag(s.key(sid)), clusterSlotTag(s.dueKey(bucketOf(sid))); a != b || a == "" {
			t.Errorf("%s: hash tag %q, deadline set's %q; want one", sid, a, b)
		}
	}
}

// clusterSlotTag is the part of key Redis Cluster hashes: the first {...}.
func clusterSlotTag(key string) string {
	_, rest, ok := strings.Cut(key, "{")
	if !ok {
		return ""
	}
	tag, _, ok := strings.Cut(rest, "}")
	if !ok {
		return ""
	}
	return tag
}

// claimSorted claims up to 100 due sessions on st for a minute, sorted.
func claimSorted(t *testing.T, st *RedisStore) []string {
	t.Helper()
	sids, err := st.ClaimDue(t.Context(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(sids)
	return sids
}

// Every active session waits in its bucket's deadline set at its idle
// deadline; ClaimDue hands each due one to one caller per lease, and a
// decision puts the set right.
func TestRedisClaimDue(t *testing.T) {
	t.Parallel()
	c := redisForTest(t)
	clk := clock.NewManual(redisTime(t, c))
	s := newRedisForTest(t, c, RedisOptions{Clock: clk})
	other := &RedisStore{client: s.client, prefix: s.prefix, retention: s.retention, clock: clk} // another node
	ctx := t.Context()
	short := Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second}
	must(t)(s.Touch(ctx, "idle", 0, Terms{Limits: short, UID: "u1"}))
	must(t)(s.Touch(ctx, "busy", 0, Terms{Limits: short}))
	must(t)(s.Touch(ctx, "later", 0, Terms{Limits: lim}))
	must(t)(s.Touch(ctx, "gone", 0, Terms{Limits: short}))
	must(t)(s.End(ctx, "gone", ReasonLogout, Limits{}))
	confirmed(t, s, "gone")

	if got := claimSorted(t, s); len(got) != 0 {
		t.Fatalf("claimed %v before any deadline", got)
	}
	clk.Advance(8 * time.Second)
	must(t)(s.Touch(ctx, "busy", 0, Terms{Limits: short})) // busy's deadline moves to 18 s
	clk.Advance(2 * time.Second)
	if got := claimSorted(t, s); !slices.Equal(got, []string{"idle"}) {
		t.Fatalf("claimed %v at 10 s, want [idle]", got)
	}
	if got := claimSorted(t, other); len(got) != 0 {
		t.Fatalf("another node claimed %v within the lease", got)
	}
	snap := must(t)(other.Check(ctx, "idle", Limits{}))
	if !snap.Ended || !snap.EndedNow || snap.UID != "u1" {
		t.Fatalf("Check of the claimed session = %+v, want ended now, with its user", snap)
	}
	confirmed(t, other, "idle")
	clk.Advance(2 * time.Minute) // past the lease: an ended session is not in the set
	if got := claimSorted(t, other); !slices.Equal(got, []string{"busy"}) {
		t.Fatalf("claimed %v after the lease, want [busy]: idle ended, later not due", got)
	}
	// A claim the claimer never decided comes back when its lease ends.
	clk.Advance(time.Minute)
	if got := claimSorted(t, s); !slices.Equal(got, []string{"busy"}) {
		t.Fatalf("claimed %v after an undecided lease, want [busy]", got)
	}
	// A claimed session that a call keeps alive (its limits lengthened by
	// a later token) goes back to its own deadline, not the lease's.
	must(t)(s.Touch(ctx, "busy", 0, Terms{Limits: Limits{WarnAfter: time.Hour, ExpireAfter: 10 * time.Hour}}))
	if score := c.ZScore(ctx, s.dueKey(bucketOf("busy")), "busy").Val(); int64(score) != clk.Now().Add(10*time.Hour).UnixMicro() {
		t.Errorf("busy's deadline in the set = %v, want now + 10 h", score)
	}
}

// An end whose node never confirmed it (killed between the end and the
// webhook's queue, or cut off from the reply) waits in the deadline set;
// once ConfirmWithin has passed, a claim finds it and the next call is
// told EndedNow again, until one confirms.
func TestRedisUnconfirmedEndIsAnnouncedAgain(t *testing.T) {
	t.Parallel()
	c := redisForTest(t)
	clk := clock.NewManual(redisTime(t, c))
	s := newRedisForTest(t, c, RedisOptions{Clock: clk})
	other := &RedisStore{client: s.client, prefix: s.prefix, retention: s.retention, clock: clk} // another node
	ctx := t.Context()
	short := Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second}
	must(t)(s.Touch(ctx, "lost", 0, Terms{Limits: short, UID: "u1"}))
	must(t)(s.Touch(ctx, "kept", 0, Terms{Limits: short}))
	clk.Advance(10 * time.Second)
	must(t)(s.End(ctx, "gone", ReasonLogout, Limits{})) // never confirmed either
	for _, sid := range []string{"lost", "kept"} {
		if snap := must(t)(s.Check(ctx, sid, Limits{})); !snap.EndedNow {
			t.Fatalf("%s: %+v, want ended now", sid, snap)
		}
	}
	confirmed(t, s, "kept")

	clk.Advance(ConfirmWithin - time.Millisecond)
	if got := claimSorted(t, other); len(got) != 0 {
		t.Fatalf("claimed %v before the confirmation was due", got)
	}
	if snap := must(t)(other.Check(ctx, "lost", Limits{})); snap.EndedNow {
		t.Fatalf("lost announced again before the confirmation was due: %+v", snap)
	}
	clk.Advance(time.Millisecond)
	if got := claimSorted(t, other); !slices.Equal(got, []string{"gone", "lost"}) {
		t.Fatalf("claimed %v once the confirmations were due, want [gone lost]", got)
	}
	for _, sid := range []string{"gone", "lost"} {
		snap := must(t)(other.Check(ctx, sid, Limits{}))
		if !snap.Ended || !snap.EndedNow {
			t.Fatalf("%s checked after its claim: %+v, want announced again", sid, snap)
		}
		if sid == "lost" && (snap.UID != "u1" || snap.Reason != ReasonIdle) {
			t.Errorf("lost announced again as %+v, want its user and reason", snap)
		}
		if again := must(t)(s.Check(ctx, sid, Limits{})); again.EndedNow {
			t.Fatalf("%s announced to a second caller at once: %+v", sid, again)
		}
	}
	confirmed(t, other, "gone")
	clk.Advance(time.Hour)
	if got := claimSorted(t, s); !slices.Equal(got, []string{"lost"}) {
		t.Fatalf("claimed %v an hour on, want only lost, which nobody confirmed", got)
	}
	confirmed(t, s, "lost")
	clk.Advance(time.Hour)
	if got := claimSorted(t, s); len(got) != 0 {
		t.Fatalf("claimed %v after every end was confirmed", got)
	}
	// Confirming a live session, or one nobody knows, changes nothing.
	must(t)(s.Touch(ctx, "live", 0, Terms{Limits: short}))
	confirmed(t, s, "live")
	confirmed(t, s, "unknown")
	if snap := must(t)(s.Check(ctx, "live", Limits{})); snap.Ended {
		t.Fatalf("live after ConfirmEnd: %+v", snap)
	}
	if n := c.Exists(ctx, s.key("unknown")).Val(); n != 0 {
		t.Errorf("ConfirmEnd of an unknown session wrote its key")
	}
}

// TestRedisTwoNodes checks that two stores on one Redis, as two nodes
// would hold, share one timeline.
func TestRedisTwoNodes(t *testing.T) {
	t.Parallel()
	c1, c2 := redisForTest(t), redisForTest(t)
	prefix := testPrefix(t, c1)
	a := newRedisForTest(t, c1, RedisOptions{Prefix: prefix})
	b := newRedisForTest(t, c2, RedisOptions{Prefix: prefix})
	ctx := t.Context()

	touched := must(t)(a.Touch(ctx, "s", 20*time.Second, Terms{Limits: lim}))
	seen := must(t)(b.Check(ctx, "s", lim))
	if !seen.Known || seen.Ended || !seen.Last.Equal(touched.Last) {
		t.Fatalf("node b sees %+v, want node a's Last %v", seen, touched.Last)
	}
	if seen.Now.Before(touched.Now) {
		t.Errorf("node b's Now %v is before node a's earlier %v", seen.Now, touched.Now)
	}
	ended := must(t)(b.End(ctx, "s", ReasonLogout, lim))
	wantEnded(t, ended, ended.Now, ReasonLogout, true)
	wantEnded(t, must(t)(a.Touch(ctx, "s", 0, Terms{Limits: lim})), ended.Now, ReasonLogout, false)
}

// TestRedisEndedNowAcrossNodes races 50 calls through two stores on a
// session whose deadline passed on Redis's own clock: exactly one is told.
func TestRedisEndedNowAcrossNodes(t *testing.T) {
	t.Parallel()
	c1, c2 := redisForTest(t), redisForTest(t)
	prefix := testPrefix(t, c1)
	nodes := []*RedisStore{
		newRedisForTest(t, c1, RedisOptions{Prefix: prefix}),
		newRedisForTest(t, c2, RedisOptions{Prefix: prefix}),
	}
	short := Limits{WarnAfter: 50 * time.Millisecond, ExpireAfter: 100 * time.Millisecond}
	ctx := t.Context()
	for round := range 5 {
		sid := fmt.Sprint("s", round)
		touched := must(t)(nodes[0].Touch(ctx, sid, 0, Terms{Limits: short}))
		time.Sleep(150 * time.Millisecond)
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			endedBy atomic.Int32
		)
		for i := range 50 {
			wg.Go(func() {
				<-start
				s := nodes[i%2]
				var snap Snapshot
				var err error
				switch i % 5 {
				case 0:
					snap, err = s.Touch(ctx, sid, 0, Terms{Limits: short})
				case 1, 2:
					snap, err = s.Check(ctx, sid, short)
				case 3:
					snap, err = s.End(ctx, sid, ReasonLogout, short)
				case 4:
					snap, err = s.End(ctx, sid, ReasonRevoked, short)
				}
				if err != nil {
					t.Error(err)
					return
				}
				wantEnded(t, snap, touched.Last.Add(short.ExpireAfter), ReasonIdle, snap.EndedNow)
				if snap.EndedNow {
					endedBy.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := endedBy.Load(); n != 1 {
			t.Fatalf("round %d: %d callers saw EndedNow, want exactly 1", round, n)
		}
	}
}

// TestRedisRetriedAnnouncer checks that a call go-redis retries after a
// lost reply, which runs the script again with the same id, is told
// EndedNow again, and no other call is.
func TestRedisRetriedAnnouncer(t *testing.T) {
	t.Parallel()
	c := redisForTest(t)
	s := newRedisForTest(t, c, RedisOptions{})
	ctx := t.Context()
	must(t)(s.Touch(ctx, "s", 0, Terms{Limits: lim}))
	for i, want := range []bool{true, true, false} {
		id := uint64(7)
		if i == 2 {
			id = 8
		}
		snap := must(t)(s.runAs(ctx, id, ruleEnd, "s", Terms{Limits: lim}, int64(endedLogout)))
		wantEnded(t, snap, snap.EndedAt, ReasonLogout, want)
	}
}

// TestRedisScriptFlush checks that the store survives a Redis that lost
// its script cache, as after a restart.
func TestRedisScriptFlush(t *testing.T) {
	t.Parallel()
	c := redisForTest(t)
	s := newRedisForTest(t, c, RedisOptions{})
	ctx := t.Context()
	must(t)(s.Touch(ctx, "s", 0, Terms{Limits: lim}))
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if snap := must(t)(s.Check(ctx, "s", lim)); !snap.Known || snap.Ended {
		t.Errorf("after SCRIPT FLUSH: %+v", snap)
	}
}

// TestRedisDown checks that a store whose Redis is gone answers with an
// error, within the caller's deadline, never with a Snapshot.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	closed := redis.NewClient(&redis.Options{Addr: redisAddr()})
	closed.Close()
	unreachable, err := OpenRedis("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unreachable.Close() })
	for name, c := range map[string]redis.UniversalClient{"closed client": closed, "unreachable": unreachable} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := NewRedisStore(RedisOptions{Client: c})
			if err != nil {
				t.Fatal(err)
			}
			calls := map[string]func(context.Context) (Snapshot, error){
				"Touch": func(ctx context.Context) (Snapshot, error) { return s.Touch(ctx, "s", 0, Terms{Limits: lim}) },
				"Check": func(ctx context.Context) (Snapshot, error) { return s.Check(ctx, "s", lim) },
				"End":   func(ctx context.Context) (Snapshot, error) { return s.End(ctx, "s", ReasonLogout, lim) },
				"Ping":  func(ctx context.Context) (Snapshot, error) { return Snapshot{}, s.Ping(ctx) },
			}
			for call, f := range calls {
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				start := time.Now()
				snap, err := f(ctx)
				d := time.Since(start)
				cancel()
				if err == nil || !strings.HasPrefix(err.Error(), "session: redis: ") || snap != (Snapshot{}) {
					t.Errorf("%s = %+v, %v; want a session: redis: error", call, snap, err)
				}
				if d > time.Second {
					t.Errorf("%s took %v with a 300 ms deadline", call, d)
				}
			}
		})
	}
}

// TestRedisCtxBounds checks that the caller's ctx bounds a call to a
// Redis that accepts connections but never answers.
func TestRedisCtxBounds(t *testing.T) {
	t.Parallel()
	// CLIENT PAUSE would stop other processes' calls too; a listener that
	// never answers stands in for a hung Redis.
	hung, err := OpenRedis("redis://" + silentListener(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hung.Close() })
	s, err := NewRedisStore(RedisOptions{Client: hung})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Touch(ctx, "s", 0, Terms{Limits: lim}); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Touch on a hung Redis: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Touch took %v with a 200 ms deadline", d)
	}
}

// silentListener returns the address of a listener that accepts
// connections and never answers, closed when the test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// TestRedisOwnClient checks that Close closes an owned client, once.
func TestRedisOwnClient(t *testing.T) {
	t.Parallel()
	redisForTest(t) // skips without Redis
	c := redis.NewClient(&redis.Options{Addr: redisAddr()})
	s, err := NewRedisStore(RedisOptions{Client: c, OwnClient: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if err := c.Ping(t.Context()).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("the owned client after Close: %v, want redis.ErrClosed", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
}

// TestRedisNodeClock runs a store in a synctest bubble, whose clock says
// 2000-01-01 and stands still: Snapshots still carry Redis's time, and
// Last is Redis's Now minus idle, so a node's skewed clock changes nothing.
func TestRedisNodeClock(t *testing.T) {
	t.Parallel()
	outside := redisForTest(t)
	prefix := testPrefix(t, outside)
	before := redisTime(t, outside)
	var snap Snapshot
	synctest.Test(t, func(t *testing.T) {
		// Deadlines on sockets would be computed from the bubble's clock;
		// ctx, not a socket deadline, bounds each call.
		c := redis.NewClient(&redis.Options{Addr: redisAddr(), ReadTimeout: -2, WriteTimeout: -2})
		defer c.Close()
		s, err := NewRedisStore(RedisOptions{Client: c, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if y := time.Now().Year(); y != 2000 {
			t.Fatalf("the bubble's clock says %d", y)
		}
		snap = must(t)(s.Touch(context.Background(), "s", 30*time.Second, Terms{Limits: lim}))
	})
	after := redisTime(t, outside)
	if snap.Now.Before(before.Truncate(time.Microsecond)) || snap.Now.After(after) {
		t.Errorf("Now = %v, want Redis's clock, between %v and %v", snap.Now, before, after)
	}
	if !snap.Last.Equal(snap.Now.Add(-30 * time.Second)) {
		t.Errorf("Last = %v, want Now - 30s = %v", snap.Last, snap.Now.Add(-30*time.Second))
	}
}

// BenchmarkRedisTouch and BenchmarkRedisCheck measure one call's round trip
// to the test Redis, from one goroutine and from every CPU.
func BenchmarkRedisTouch(b *testing.B) {
	benchRedis(b, func(ctx context.Context, s *RedisStore, sid string) error {
		_, err := s.Touch(ctx, sid, 0, Terms{Limits: lim})
		return err
	})
}

func BenchmarkRedisCheck(b *testing.B) {
	benchRedis(b, func(ctx context.Context, s *RedisStore, sid string) error {
		_, err := s.Check(ctx, sid, lim)
		return err
	})
}

func benchRedis(b *testing.B, call func(context.Context, *RedisStore, string) error) {
	c := redisForTest(b)
	s := newRedisForTest(b, c, RedisOptions{})
	ctx := context.Background()
	sids := benchSIDs(1 << 10)
	for _, sid := range sids {
		if _, err := s.Touch(ctx, sid, 0, Terms{Limits: longLim}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := call(ctx, s, sids[i&(len(sids)-1)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := call(ctx, s, sids[i&(len(sids)-1)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// A batch after SCRIPT FLUSH loads the script again and answers every call.
func TestRedisBatchAfterScriptFlush(t *testing.T) {
	t.Parallel()
	c := redisForTest(t)
	s := newRedisForTest(t, c, RedisOptions{})
	ctx := t.Context()
	must(t)(s.Touch(ctx, "a", 0, Terms{Limits: lim}))
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	results := s.Batch(ctx, []Call{{SID: "a", Terms: Terms{Limits: lim}}, {SID: "b", Touch: true, Terms: Terms{Limits: lim}}})
	for i, r := range results {
		if r.Err != nil || !r.Snapshot.Known || r.Snapshot.Ended {
			t.Errorf("call %d after SCRIPT FLUSH: %+v, %v", i, r.Snapshot, r.Err)
		}
	}
}
