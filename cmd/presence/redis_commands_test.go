package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
)

// Every command the node sends counts once, a pipeline's each on its own,
// whether Redis answers or not.
func TestRedisCommandsCountsWhatTheNodeSends(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer client.Close()
	var sent redisCommands
	client.AddHook(&sent)
	reg := prometheus.NewRegistry()
	sent.register(reg)
	ctx := context.Background()
	client.Get(ctx, "a")
	pipe := client.Pipeline()
	for range 3 {
		pipe.Get(ctx, "b")
	}
	pipe.Exec(ctx)
	want := "# HELP presence_redis_commands_total Commands this node sent to Redis, each command of a pipeline counted; a Lua script call counts once.\n# TYPE presence_redis_commands_total counter\npresence_redis_commands_total 4\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "presence_redis_commands_total"); err != nil {
		t.Error(err)
	}
}
