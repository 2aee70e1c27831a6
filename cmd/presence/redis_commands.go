package main

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// redisCommands counts the commands this node sends to Redis, each
// command of a pipeline on its own, as presence_redis_commands_total. It
// is what the node costs Redis in calls: Redis's own
// total_commands_processed counts the commands each Lua script runs
// inside too, and those of every other client.
type redisCommands struct{ sent atomic.Uint64 }

func (c *redisCommands) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *redisCommands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.sent.Add(1)
		return next(ctx, cmd)
	}
}

func (c *redisCommands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.sent.Add(uint64(len(cmds)))
		return next(ctx, cmds)
	}
}

// register adds the counter to reg.
func (c *redisCommands) register(reg prometheus.Registerer) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "presence_redis_commands_total",
		Help: "Commands this node sent to Redis, each command of a pipeline counted; a Lua script call counts once.",
	}, func() float64 { return float64(c.sent.Load()) }))
}

var _ redis.Hook = (*redisCommands)(nil)
