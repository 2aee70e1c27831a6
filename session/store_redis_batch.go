package session

import (
	"context"
	"math/rand/v2"
	"strings"

	"github.com/redis/go-redis/v9"
)

var _ Batcher = (*RedisStore)(nil)

// Batch implements Batcher: it sends every call in one pipeline, which a
// Cluster client splits by the node that holds each session. Calls that
// find the script missing (a Redis restarted or flushed) are sent again
// one by one, which loads it.
func (s *RedisStore) Batch(ctx context.Context, calls []Call) []Result {
	results := make([]Result, len(calls))
	type sent struct {
		i     int
		id    uint64
		rule  string
		terms Terms
		arg   int64
		cmd   *redis.Cmd
	}
	var pending []sent
	pipe := s.client.Pipeline()
	for i, c := range calls {
		rule, arg, err := s.batchRule(ctx, c)
		if err != nil {
			results[i].Err = err
			continue
		}
		// As in run, the call's id lets a retried call learn that it
		// announced the end.
		id := rand.Uint64()
		terms := c.Terms
		if !c.Touch {
			terms = Terms{Limits: c.Terms.Limits}
		}
		keys, args := s.ruleCall(id, rule, c.SID, terms, arg)
		pending = append(pending, sent{i: i, id: id, rule: rule, terms: terms, arg: arg, cmd: redisRule.EvalSha(ctx, pipe, keys, args...)})
	}
	if len(pending) == 0 {
		return results
	}
	pipe.Exec(ctx) // each command carries its own error
	for _, p := range pending {
		c := calls[p.i]
		raw, err := p.cmd.Slice()
		if err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			results[p.i].Snapshot, results[p.i].Err = s.runAs(ctx, p.id, p.rule, c.SID, p.terms, p.arg)
			continue
		}
		results[p.i].Snapshot, results[p.i].Err = s.ruleAnswer(c.SID, raw, err)
	}
	return results
}

// batchRule checks one call of a batch as Touch or Check would, and
// returns its rule and argument.
func (s *RedisStore) batchRule(ctx context.Context, c Call) (string, int64, error) {
	if !c.Touch {
		return ruleCheck, 0, s.usable(ctx, c.SID, c.Terms.Limits, true)
	}
	if err := s.usable(ctx, c.SID, c.Terms.Limits, false); err != nil {
		return "", 0, err
	}
	if err := checkUID(c.Terms.UID); err != nil {
		return "", 0, err
	}
	return ruleTouch, redisIdle(c.Idle), nil
}
