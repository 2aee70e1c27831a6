package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// brokerShards is how many Redis channels carry the nudges. A session's
// nudges always go to the same one, so they stay in order.
const brokerShards = 16

// RedisBroker is a Broker on Redis sharded pub/sub (SPUBLISH and
// SSUBSCRIBE, Redis 7 or later), which Redis Cluster routes to the node
// of each channel's slot. Every presence node subscribes to a fixed set of
// 16 channels and ignores nudges for sessions it does not hold; see
// docs/deploy.md for why fixed channels beat one channel per session.
type RedisBroker struct {
	client redis.UniversalClient
	prefix string
	node   string // this node's id; its own nudges come back and are skipped
}

var _ Broker = (*RedisBroker)(nil)

// NewRedisBroker returns a broker on client whose channels are named
// prefix + "nudge:" + shard. The caller owns client.
func NewRedisBroker(client redis.UniversalClient, prefix string) *RedisBroker {
	var id [8]byte
	rand.Read(id[:])
	return &RedisBroker{client: client, prefix: prefix, node: hex.EncodeToString(id[:])}
}

func (b *RedisBroker) channel(n uint64) string {
	return fmt.Sprintf("%snudge:%d", b.prefix, n)
}

// Publish sends a nudge for sid on its shard's channel.
func (b *RedisBroker) Publish(ctx context.Context, sid string) error {
	// The shard must not depend on this process's seed: every node has to
	// pick the same channel for a session, so it is hashed by a fixed rule.
	ch := b.channel(shardOfSID(sid))
	if err := b.client.SPublish(ctx, ch, b.node+" "+sid).Err(); err != nil {
		return fmt.Errorf("hub: publish nudge: %w", err)
	}
	return nil
}

// The wait before subscribing again after a failure doubles from the
// minimum to the maximum.
const (
	minResubscribeBackoff = 100 * time.Millisecond
	maxResubscribeBackoff = 5 * time.Second
)

// jittered returns a wait between half of backoff and all of it, at
// random: nodes that lost Redis together, when it restarted, come back
// spread out instead of resubscribing and re-reading every session at
// once.
func jittered(backoff time.Duration) time.Duration {
	half := backoff / 2
	return half + mrand.N(backoff-half+1)
}

// shardOfSID is FNV-1a of sid modulo brokerShards: the same on every node.
func shardOfSID(sid string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(sid); i++ {
		h ^= uint64(sid[i])
		h *= 1099511628211
	}
	return h % brokerShards
}

// Run subscribes to every shard and delivers nudges until ctx ends. The
// subscription survives Redis restarts: after a failure it waits, from
// about 100 ms up to 5 s with jitter, and subscribes again, then calls
// resync.
func (b *RedisBroker) Run(ctx context.Context, nudge func(string), resync func()) error {
	channels := make([]string, brokerShards)
	for i := range channels {
		channels[i] = b.channel(uint64(i))
	}
	ps := b.client.SSubscribe(ctx, channels...)
	// A blocked Receive does not watch ctx; closing the subscription
	// ends it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	defer ps.Close()
	backoff := minResubscribeBackoff
	failed := false
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			failed = true
			select {
			case <-time.After(jittered(backoff)):
			case <-ctx.Done():
				return nil
			}
			backoff = min(backoff*2, maxResubscribeBackoff)
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if failed {
				failed = false
				backoff = minResubscribeBackoff
				resync()
			}
		case *redis.Message:
			node, sid, ok := strings.Cut(m.Payload, " ")
			if ok && node != b.node {
				nudge(sid)
			}
		}
	}
}
