package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func brokerPrefix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "presence-test:" + hex.EncodeToString(b) + ":"
}

// runBroker runs b until the test ends and returns the nudges it gets.
func runBroker(t *testing.T, b *RedisBroker) (<-chan string, <-chan struct{}) {
	t.Helper()
	nudges := make(chan string, 16)
	resyncs := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx, func(sid string) { nudges <- sid }, func() { resyncs <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return nudges, resyncs
}

func TestRedisBrokerDeliversToOtherNodesOnly(t *testing.T) {
	client := requireRedis(t, testRedisAddr())
	prefix := brokerPrefix()
	one, two := NewRedisBroker(client, prefix), NewRedisBroker(client, prefix)
	fromOne, _ := runBroker(t, one)
	fromTwo, _ := runBroker(t, two)
	otherPrefix := brokerPrefix() // another deployment on the same Redis
	other := NewRedisBroker(client, otherPrefix)
	fromOther, _ := runBroker(t, other)
	waitSubscribed(t, client, prefix, 2)
	waitSubscribed(t, client, otherPrefix, 1)

	for _, sid := range []string{"a", "b", "session:with-punctuation.1"} {
		if err := one.Publish(context.Background(), sid); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-fromTwo:
			if got != sid {
				t.Errorf("node two got %q, want %q", got, sid)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("node two did not get the nudge for %q", sid)
		}
	}
	select {
	case got := <-fromOne:
		t.Errorf("node one got its own nudge %q", got)
	case got := <-fromOther:
		t.Errorf("another prefix got nudge %q", got)
	case <-time.After(200 * time.Millisecond):
	}
}

// waitSubscribed waits until Redis confirms n subscribers on every nudge
// channel of prefix: a nudge published before then could be lost.
func waitSubscribed(t *testing.T, client redis.UniversalClient, prefix string, n int64) {
	t.Helper()
	b := NewRedisBroker(client, prefix)
	channels := make([]string, brokerShards)
	for i := range channels {
		channels[i] = b.channel(uint64(i))
	}
	eventually(t, "subscriptions confirmed", func() bool {
		counts, err := client.PubSubShardNumSub(t.Context(), channels...).Result()
		if err != nil {
			return false
		}
		for _, ch := range channels {
			if counts[ch] < n {
				return false
			}
		}
		return true
	})
}

func TestJitteredBackoff(t *testing.T) {
	for _, backoff := range []time.Duration{minResubscribeBackoff, time.Second, maxResubscribeBackoff} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := jittered(backoff)
			if d < backoff/2 || d > backoff {
				t.Fatalf("jittered(%v) = %v, want within [%v, %v]", backoff, d, backoff/2, backoff)
			}
			seen[d] = true
		}
		// Nodes that failed together must not all wait the same.
		if len(seen) < 100 {
			t.Errorf("jittered(%v): %d distinct waits in 200, want them spread", backoff, len(seen))
		}
	}
}

func TestShardOfSIDIsStable(t *testing.T) {
	// Every node must pick the same channel for a session, whatever its
	// process: the shard is a fixed function of the id.
	for sid, want := range map[string]uint64{"a": shardOfSID("a"), "abc": shardOfSID("abc")} {
		for range 3 {
			if got := shardOfSID(sid); got != want || got >= brokerShards {
				t.Errorf("shardOfSID(%q) = %d, want %d", sid, got, want)
			}
		}
	}
	seen := map[uint64]bool{}
	for i := range 1000 {
		seen[shardOfSID(fmt.Sprintf("session-%d", i))] = true
	}
	if len(seen) != brokerShards {
		t.Errorf("1000 sessions use %d of %d shards", len(seen), brokerShards)
	}
}

// The choice between one channel per session and fixed shard channels,
// measured on the same Redis: what a node pays per session it holds.
// With per-session channels a node subscribes when a session's first tab
// arrives and unsubscribes when the session goes (two round trips on its
// one subscription connection, and a channel in Redis per session held);
// with shard channels it pays nothing per session, and each nudge reaches
// every node instead of only those holding the session.
func BenchmarkBrokerPerSessionSubscription(b *testing.B) {
	client := redisForBench(b)
	ctx := context.Background()
	ps := client.SSubscribe(ctx, "presence-bench:warmup")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ch := fmt.Sprintf("presence-bench:{s%d}", i)
		i++
		if err := ps.SSubscribe(ctx, ch); err != nil {
			b.Fatal(err)
		}
		if err := ps.SUnsubscribe(ctx, ch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBrokerPublish(b *testing.B) {
	client := redisForBench(b)
	broker := NewRedisBroker(client, "presence-bench:")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := broker.Publish(ctx, "some-session-id"); err != nil {
			b.Fatal(err)
		}
	}
}

func redisForBench(b *testing.B) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: testRedisAddr()})
	b.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		b.Skipf("skipped: no Redis at %s", testRedisAddr())
	}
	return c
}
