-- store_redis_claim.lua claims the sessions of one bucket whose idle
-- deadline has passed, so that whichever node asks first decides them,
-- whether or not any node holds a tab of them. A claimed session's score
-- moves to now + lease: no other node gets it back before then, and if
-- the claiming node dies before it decides, another node claims it when
-- the lease ends. Deciding the session (store_redis.lua) puts its score
-- right or removes it.
--
-- KEYS[1]  the bucket's deadline set (see store_redis.lua's KEYS[2])
-- ARGV[1]  the clock: 0 means Redis TIME; else RedisOptions.Clock (unix
--          microseconds)
-- ARGV[2]  the lease, microseconds, positive
-- ARGV[3]  how many sessions at most
--
-- It returns the session ids claimed.

local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local leased = now + tonumber(ARGV[2])
for _, sid in ipairs(due) do
  redis.call('ZADD', KEYS[1], leased, sid)
end
return due
