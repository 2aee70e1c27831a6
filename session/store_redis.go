package session

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presence-dev/presence/internal/clock"
)

// RedisOptions configures NewRedisStore.
type RedisOptions struct {
	// Client is the Redis the store keeps sessions in: a standalone,
	// Sentinel or Cluster client (see OpenRedis). It is required. Enable
	// its ContextTimeoutEnabled, as OpenRedis does, so that the ctx of each
	// call bounds it even when Redis stops answering.
	Client redis.UniversalClient
	// OwnClient makes Close close Client too. False means the caller owns
	// Client and closes it after the store.
	OwnClient bool
	// Prefix starts every key the store writes, so that several services
	// can share one Redis. It must not contain { or }, which would break
	// the hash tag that keeps a session in one Cluster slot. Zero means
	// "presence:".
	Prefix string
	// Retention is how long an ended mark is kept after the store learns
	// of the end, and how long an idle session outlives its deadline, so
	// that a token minted before the end can never start the session
	// afresh. The server passes its token max age plus MaxClockSkew. Zero
	// means 12h + MaxClockSkew.
	Retention time.Duration
	// Clock, when set, is the clock the store's rules run on instead of
	// Redis's own TIME, to the microsecond. Tests set a clock they move by
	// hand, so that several nodes on a real Redis run in virtual time. Nil
	// means Redis TIME: one clock for every node, whatever theirs say.
	Clock clock.Clock
}

// RedisStore is a Store in Redis, for several nodes sharing sessions. Each
// session is one hash, <Prefix>s:{<bucket>}:<sid>, changed only by one Lua
// script that runs the timeline's rules atomically on Redis's own clock,
// so every node sees one timeline whatever its own clock says. Every write
// sets a TTL: an active session's key lives until Retention after its
// latest idle deadline, an ended mark's until Retention after the store
// learnt of the end. The same script keeps each active session in its
// bucket's deadline set, <Prefix>due:{<bucket>}, where ClaimDue finds it
// when it is due, so that a session is ended on time whichever nodes are
// alive. The first call that finds a session past its deadline ends it
// and is told EndedNow.
//
// A bucket is one of 64, by a fixed hash of the session id; its braces
// are a Cluster hash tag, which keeps a session's hash and its bucket's
// set in one slot, as the script needs.
//
// Times in its Snapshots are Redis's clock to the microsecond; compare
// them with one another, not with the node's clock.
type RedisStore struct {
	client    redis.UniversalClient
	own       bool
	prefix    string
	retention int64        // microseconds
	clock     clock.Clock  // nil means Redis TIME
	holdUntil atomic.Int64 // unix nanoseconds on the node's clock; see HoldIdleEnds

	closed    atomic.Bool
	closeOnce sync.Once
}

var (
	_ Store        = (*RedisStore)(nil)
	_ Claimer      = (*RedisStore)(nil)
	_ EndConfirmer = (*RedisStore)(nil)
)

//go:embed store_redis.lua
var redisRuleSource string

// redisRule runs one timeline rule; see store_redis.lua. It is sent with
// EVALSHA, and with EVAL when Redis lacks it (after a restart or SCRIPT
// FLUSH), which loads it again.
var redisRule = redis.NewScript(redisRuleSource)

//go:embed store_redis_claim.lua
var redisClaimSource string

// redisClaim claims the due sessions of one bucket; see
// store_redis_claim.lua.
var redisClaim = redis.NewScript(redisClaimSource)

// redisBuckets is how many buckets the sessions are spread over: enough
// slots for a Cluster's shards to share the load, few enough that a node
// asks every bucket for due sessions twice a second at little cost.
const redisBuckets = 64

// NewRedisStore returns a RedisStore on opts.Client. It does not talk to
// Redis: call Ping to find out whether it answers.
func NewRedisStore(opts RedisOptions) (*RedisStore, error) {
	if opts.Client == nil {
		return nil, errors.New("session: redis store: no Client; make one with OpenRedis(url)")
	}
	if opts.Prefix == "" {
		opts.Prefix = "presence:"
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("session: redis store: prefix %q contains { or }, which would put every session in one Cluster slot", opts.Prefix)
	}
	if opts.Retention <= 0 {
		opts.Retention = defaultMaxAge + MaxClockSkew
	}
	if opts.Retention > maxRedisRetention {
		return nil, fmt.Errorf("session: redis store: retention %v is longer than %v", opts.Retention, maxRedisRetention)
	}
	return &RedisStore{
		client:    opts.Client,
		own:       opts.OwnClient,
		prefix:    opts.Prefix,
		retention: micros(opts.Retention),
		clock:     opts.Clock,
	}, nil
}

// maxRedisRetention keeps the script's sums of microseconds within the
// integers a Lua number holds exactly.
const maxRedisRetention = 100 * 366 * 24 * time.Hour

// maxRedisIdle caps the idle a Touch sends: Now - idle must stay within
// the integers a Lua number holds exactly. An idle of 142 years ends a
// session as surely as a longer one.
const maxRedisIdle = 1 << 52 // microseconds, about 142 years

// The rules store_redis.lua runs.
const (
	ruleTouch   = "touch"
	ruleCheck   = "check"
	ruleEnd     = "end"
	ruleConfirm = "confirm"
)

// Touch implements Store.
func (s *RedisStore) Touch(ctx context.Context, sid string, idle time.Duration, terms Terms) (Snapshot, error) {
	if err := s.usable(ctx, sid, terms.Limits, false); err != nil {
		return Snapshot{}, err
	}
	if err := checkUID(terms.UID); err != nil {
		return Snapshot{}, err
	}
	return s.run(ctx, ruleTouch, sid, terms, redisIdle(idle))
}

// redisIdle is a Touch's idle as the script takes it, in microseconds.
// Rounding down keeps Last no earlier than the caller said.
func redisIdle(idle time.Duration) int64 {
	return min(int64(max(idle, 0)/time.Microsecond), maxRedisIdle)
}

// ConfirmEnd implements EndConfirmer.
func (s *RedisStore) ConfirmEnd(ctx context.Context, sid string) error {
	if err := s.usable(ctx, sid, Limits{}, true); err != nil {
		return err
	}
	_, err := s.run(ctx, ruleConfirm, sid, Terms{}, 0)
	return err
}

// Check implements Store.
func (s *RedisStore) Check(ctx context.Context, sid string, lim Limits) (Snapshot, error) {
	if err := s.usable(ctx, sid, lim, true); err != nil {
		return Snapshot{}, err
	}
	return s.run(ctx, ruleCheck, sid, Terms{Limits: lim}, 0)
}

// End implements Store.
func (s *RedisStore) End(ctx context.Context, sid string, reason Reason, lim Limits) (Snapshot, error) {
	if err := s.usable(ctx, sid, lim, true); err != nil {
		return Snapshot{}, err
	}
	code, ok := codeOf(reason)
	if !ok {
		return Snapshot{}, fmt.Errorf("session: end: unknown reason %q; use idle, logout, revoked or lifetime", reason)
	}
	return s.run(ctx, ruleEnd, sid, Terms{Limits: lim}, int64(code))
}

// Ping implements Store: it sends PING to Redis.
func (s *RedisStore) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("session: redis: %w", err)
	}
	return nil
}

// Close marks the store closed and, with OwnClient, closes the client. It
// is idempotent: only the first call closes anything.
func (s *RedisStore) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.own {
			if cerr := s.client.Close(); cerr != nil {
				err = fmt.Errorf("session: redis: %w", cerr)
			}
		}
	})
	return err
}

// key returns the key of sid's hash.
func (s *RedisStore) key(sid string) string {
	return s.prefix + "s:{" + strconv.Itoa(bucketOf(sid)) + "}:" + sid
}

// dueKey returns the key of a bucket's deadline set.
func (s *RedisStore) dueKey(bucket int) string {
	return s.prefix + "due:{" + strconv.Itoa(bucket) + "}"
}

// bucketOf is FNV-1a of sid modulo redisBuckets: the same on every node.
func bucketOf(sid string) int {
	h := uint64(14695981039346656037)
	for i := 0; i < len(sid); i++ {
		h ^= uint64(sid[i])
		h *= 1099511628211
	}
	return int(h % redisBuckets)
}

func (s *RedisStore) usable(ctx context.Context, sid string, lim Limits, optional bool) error {
	return checkCall(ctx, s.closed.Load(), sid, lim, optional)
}

// run runs rule on sid in Redis. arg is the rule's own argument: touch's
// idle in microseconds or end's reason code; uid is touch's user.
func (s *RedisStore) run(ctx context.Context, rule, sid string, terms Terms, arg int64) (Snapshot, error) {
	// The call's id lets a call that go-redis retried after a lost reply
	// learn that it, and nobody else, announced the end.
	return s.runAs(ctx, rand.Uint64(), rule, sid, terms, arg)
}

// runAs is run as the call id.
func (s *RedisStore) runAs(ctx context.Context, id uint64, rule, sid string, terms Terms, arg int64) (Snapshot, error) {
	keys, args := s.ruleCall(id, rule, sid, terms, arg)
	raw, err := redisRule.Run(ctx, s.client, keys, args...).Slice()
	return s.ruleAnswer(sid, raw, err)
}

// ruleCall returns the keys and arguments of store_redis.lua for one call.
func (s *RedisStore) ruleCall(id uint64, rule, sid string, terms Terms, arg int64) ([]string, []any) {
	// Rounding ExpireAfter up never ends a session early. Zero limits
	// stay zero: the script then uses the session's own.
	expireAfter, warnAfter := micros(terms.ExpireAfter), micros(terms.WarnAfter)
	var endAt int64
	if !terms.EndAt.IsZero() {
		endAt = max(terms.EndAt.UnixMicro(), 1)
	}
	return []string{s.key(sid), s.dueKey(bucketOf(sid))},
		[]any{rule, s.now(), s.retention, expireAfter, arg, id, warnAfter, sid, terms.UID, s.holding(), micros(ConfirmWithin), endAt}
}

// ruleAnswer reads store_redis.lua's answer for sid as a Snapshot; err is
// the call's.
func (s *RedisStore) ruleAnswer(sid string, raw []any, err error) (Snapshot, error) {
	if err != nil {
		return Snapshot{}, fmt.Errorf("session: redis: %w", err)
	}
	v, user, err := scriptAnswer(raw)
	if err != nil {
		return Snapshot{}, err
	}
	now, keep, flags, last, reason, endedAt, endedNow := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
	snap := Snapshot{Now: unixMicro(now), EndedNow: endedNow == 1}
	if keep == 0 {
		return snap, nil
	}
	snap.Limits = Limits{WarnAfter: time.Duration(v[7]) * time.Microsecond, ExpireAfter: time.Duration(v[8]) * time.Microsecond}
	snap.UID = user
	if reason == int64(active) && endedAt != 0 {
		snap.EndsAt = unixMicro(endedAt)
	}
	if uint8(flags)&hasLast != 0 {
		snap.Known = true
		snap.Last = unixMicro(last)
	}
	if reason < int64(active) || reason > int64(endedLifetime) {
		return Snapshot{}, fmt.Errorf("session: redis: key %s holds unknown reason code %d", s.key(sid), reason)
	}
	if c := reasonCode(reason); c != active {
		snap.Ended = true
		snap.EndedAt = unixMicro(endedAt)
		snap.Reason = c.reason()
	}
	return snap, nil
}

// scriptAnswer reads store_redis.lua's answer: nine integers and the
// session's user.
func scriptAnswer(raw []any) ([]int64, string, error) {
	if len(raw) != 10 {
		return nil, "", fmt.Errorf("session: redis: the script answered %d values, want 10", len(raw))
	}
	v := make([]int64, 9)
	for i := range v {
		n, ok := raw[i].(int64)
		if !ok {
			return nil, "", fmt.Errorf("session: redis: the script's value %d is %T, want an integer", i, raw[i])
		}
		v[i] = n
	}
	user, ok := raw[9].(string)
	if !ok {
		return nil, "", fmt.Errorf("session: redis: the script's user is %T, want a string", raw[9])
	}
	return v, user, nil
}

// now is the clock the scripts run on: 0 for Redis TIME, else Clock's.
func (s *RedisStore) now() int64 {
	if s.clock == nil {
		return 0
	}
	return s.clock.Now().UnixMicro()
}

// HoldIdleEnds implements Store; until is on the node's clock (Clock, or
// the system's), not Redis's: the hold is this node's.
func (s *RedisStore) HoldIdleEnds(until time.Time) {
	if until.IsZero() {
		s.holdUntil.Store(0)
		return
	}
	s.holdUntil.Store(until.UnixNano())
}

// holding is the script's hold argument: 1 while idle ends are held.
func (s *RedisStore) holding() int {
	now := time.Now()
	if s.clock != nil {
		now = s.clock.Now()
	}
	if now.UnixNano() < s.holdUntil.Load() {
		return 1
	}
	return 0
}

// ClaimDue implements Claimer: it asks every bucket for its due sessions,
// claiming at most n in all.
func (s *RedisStore) ClaimDue(ctx context.Context, n int, lease time.Duration) ([]string, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if n <= 0 || lease <= 0 {
		return nil, fmt.Errorf("session: redis: claim %d sessions for %v: both must be positive", n, lease)
	}
	var claimed []string
	for b := range redisBuckets {
		if len(claimed) >= n {
			break
		}
		sids, err := redisClaim.Run(ctx, s.client, []string{s.dueKey(b)}, s.now(), micros(lease), n-len(claimed)).StringSlice()
		if err != nil {
			return claimed, fmt.Errorf("session: redis: claim due sessions: %w", err)
		}
		claimed = append(claimed, sids...)
	}
	return claimed, nil
}

// micros returns d in microseconds, rounded up.
func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if d%time.Microsecond > 0 {
		us++
	}
	return us
}

func unixMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }
