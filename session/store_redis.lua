-- store_redis.lua runs one rule of the session timeline (timeline.go) on
-- one session, atomically: touch, check or end. It mirrors timeline.go's
-- touch, check, end, settle, mark and snapshot line for line; change both
-- together. Nobody sweeps in Redis: a session past its deadline is ended by
-- settle in the first call that finds it so, and that call announces it.
-- One thing only Redis does: the call told of an end must confirm that it
-- handed the end on (the "confirm" rule); until it does, the session stays
-- in its bucket's deadline set at the confirmation's deadline, and past it
-- the next call, a claim's above all, is told of the end again, so that a
-- node killed, or a reply lost, between the end and the webhook's queue
-- loses no end.
--
-- KEYS[1]  the session's hash: last, until, endedAt, reason, flags, by,
--          warn, exp (the limits of the latest call that gave some), uid,
--          ack (the deadline to confirm an announced end by; 0: none);
--          endedAt, while the session is active, is its absolute end (0:
--          none), as in timeline.go's entry
-- KEYS[2]  the deadlines of the session's bucket: a sorted set of session
--          ids scored by their deadline (until, or the absolute end if
--          sooner), and
--          ended sessions
--          not confirmed yet by ack, for ClaimDue
-- ARGV[1]  the rule: "touch", "check", "end" or "confirm"
-- ARGV[2]  the clock: 0 means Redis TIME; else RedisOptions.Clock (unix microseconds)
-- ARGV[3]  retention, microseconds, positive
-- ARGV[4]  the caller's ExpireAfter, microseconds; 0: the session's own
-- ARGV[5]  touch: idle, microseconds, >= 0; end: the reason code (1 to 3)
-- ARGV[6]  the call's id, so that a retried call that announced the end
--          is told EndedNow again
-- ARGV[7]  the caller's WarnAfter, microseconds; 0 with ARGV[4]
-- ARGV[8]  the session id, the deadline set's member
-- ARGV[9]  touch: the session's user; "" keeps the one it has
-- ARGV[10] 1 while idle ends are held (Store.HoldIdleEnds), else 0
-- ARGV[11] how long a call told of an end has to confirm it, microseconds
-- ARGV[12] touch: the session's absolute end, microseconds; 0: none. The
--          session keeps the first it is given
--
-- Times are unix microseconds: Lua numbers are doubles, exact for integers
-- up to 2^53, which microseconds since 1970 stay far below.
--
-- It returns {now, keep, flags, last, reason, endedAt, endedNow, warn, exp,
-- uid}.

local MAX = 9007199254740991 -- 2^53 - 1, the largest exact integer
local HAS_LAST, ANNOUNCED = 1, 2 -- flags, as in timeline.go
local CONFIRMED = 4 -- the announced end was handed on; Redis only
local ACTIVE, IDLE, LIFETIME = 0, 1, 4 -- reason codes, as in timeline.go

local key = KEYS[1]
local rule = ARGV[1]
local now = tonumber(ARGV[2])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local retention = tonumber(ARGV[3])
local expireAfter = tonumber(ARGV[4])
local warnAfter = tonumber(ARGV[7])
local id = ARGV[6]
local hold = ARGV[10] == '1'
local confirmWithin = tonumber(ARGV[11])

-- add returns a+b for b >= 0, saturating at MAX.
local function add(a, b)
  if a > MAX - b then return MAX end
  return a + b
end

-- sub returns a-b for b >= 0, saturating at -MAX.
local function sub(a, b)
  if a < -MAX + b then return -MAX end
  return a - b
end

local function has(flags, f) return bit.band(flags, f) ~= 0 end

-- announce tells this call of e's end, which it must confirm by ack.
local function announce(e)
  e.flags = bit.bor(e.flags, ANNOUNCED)
  e.by = id
  e.ack = add(now, confirmWithin)
end

-- mark ends e at endedAt for r, kept for retention after now, not after
-- endedAt: a token minted just before the store learnt of an end that lies
-- in the past must not start the session afresh either.
local function mark(e, endedAt, r)
  e.reason = r
  e.endedAt = endedAt
  e.untl = add(now, retention)
  announce(e)
  return e
end

-- settle applies what every call checks first; it returns endedNow, ended.
-- An ended session stays ended (a mark nobody announced yet is announced
-- by this call, and so is one whose announcement was not confirmed in
-- time; the call that announced it is told again if retried); an active
-- one whose last + ExpireAfter is not after now ends at that deadline,
-- idle, unless idle ends are held; one whose absolute end is not after
-- now, and comes first, ends then, for its lifetime, held or not.
local function settle(e)
  if e.reason ~= ACTIVE then
    if e.by == id then return true, true end
    local unconfirmed = e.ack > 0 and e.ack <= now and not has(e.flags, CONFIRMED)
    if not has(e.flags, ANNOUNCED) or unconfirmed then
      announce(e)
      return true, true
    end
    return false, true
  end
  -- Without limits (none given, none kept) the deadline is the latest
  -- one any call computed: never earlier than some caller's.
  local d = e.untl
  if expireAfter > 0 then d = add(e.last, expireAfter) end
  local idleDue = d <= now and not hold
  if e.endedAt > 0 and e.endedAt <= now and (not idleDue or e.endedAt <= d) then
    mark(e, e.endedAt, LIFETIME)
    return true, true
  end
  if idleDue then
    mark(e, d, IDLE)
    return true, true
  end
  return false, false
end

local f = redis.call('HMGET', key, 'last', 'until', 'endedAt', 'reason', 'flags', 'by', 'warn', 'exp', 'uid', 'ack')
local known = f[5] ~= false
local e = { last = 0, untl = 0, endedAt = 0, reason = ACTIVE, flags = 0, by = '', warn = 0, exp = 0, uid = '', ack = 0 }
if known then
  e.last = tonumber(f[1])
  e.untl = tonumber(f[2])
  e.endedAt = tonumber(f[3])
  e.reason = tonumber(f[4])
  e.flags = tonumber(f[5])
  e.by = f[6] or ''
  e.warn = tonumber(f[7]) or 0
  e.exp = tonumber(f[8]) or 0
  e.uid = f[9] or ''
  e.ack = tonumber(f[10]) or 0
end
local before = { e.last, e.untl, e.endedAt, e.reason, e.flags, e.by, e.warn, e.exp, e.uid, e.ack }

-- The call runs with its own limits, which the session then keeps, or,
-- when it gives none, with the session's (limits in timeline.go).
if expireAfter > 0 then
  e.warn, e.exp = warnAfter, expireAfter
else
  warnAfter, expireAfter = e.warn, e.exp
end

local keep, endedNow = true, false
if rule == 'touch' then
  if ARGV[9] ~= '' then e.uid = ARGV[9] end
  if e.reason == ACTIVE and e.endedAt == 0 then e.endedAt = tonumber(ARGV[12]) end
  local last = sub(now, tonumber(ARGV[5]))
  if not known then
    e.last = last
    e.flags = HAS_LAST
    local d = add(last, expireAfter)
    if e.endedAt > 0 and e.endedAt <= now then
      mark(e, e.endedAt, LIFETIME)
      endedNow = true
    elseif d <= now and not hold then
      mark(e, d, IDLE)
      endedNow = true
    else
      e.untl = d
    end
  else
    local ended
    endedNow, ended = settle(e)
    if not ended then
      e.last = math.max(e.last, last)
      e.untl = math.max(e.untl, add(e.last, expireAfter))
    end
  end
elseif rule == 'check' then
  if not known then
    keep = false
  else
    local ended
    endedNow, ended = settle(e)
    if not ended then
      e.untl = math.max(e.untl, add(e.last, expireAfter))
    end
  end
elseif rule == 'end' then
  local r = tonumber(ARGV[5])
  if not known then
    mark(e, now, r)
    endedNow = true
  else
    local ended
    endedNow, ended = settle(e)
    if not ended then
      mark(e, now, r)
      endedNow = true
    end
  end
elseif rule == 'confirm' then
  if not known then
    keep = false
  elseif e.reason ~= ACTIVE then
    e.flags = bit.bor(e.flags, CONFIRMED)
  end
else
  return redis.error_reply('ERR presence: unknown rule ' .. tostring(rule))
end

-- Write only what changed, with a TTL that bounds the key's life: an
-- active session outlives its latest idle deadline by retention (past that
-- deadline it is still an ended mark, which settle turns into an idle end
-- on the next call), an ended mark lives until its until.
local after = { e.last, e.untl, e.endedAt, e.reason, e.flags, e.by, e.warn, e.exp, e.uid, e.ack }
local changed = not known
for i = 1, #after do
  changed = changed or after[i] ~= before[i]
end
if keep and changed then
  local int = function(x) return string.format('%d', x) end
  redis.call('HSET', key,
    'last', int(e.last), 'until', int(e.untl), 'endedAt', int(e.endedAt),
    'reason', int(e.reason), 'flags', int(e.flags), 'by', e.by,
    'warn', int(e.warn), 'exp', int(e.exp), 'uid', e.uid, 'ack', int(e.ack))
  local expiry = e.untl
  if e.reason == ACTIVE then expiry = add(e.untl, retention) end
  redis.call('PEXPIRE', key, int(math.max(1, math.ceil((expiry - now) / 1000))))
end

-- The bucket's deadline set holds every active session at its deadline,
-- and every end not confirmed yet at its ack, so that any node finds it
-- due there (ClaimDue), and nothing else. It follows the hash on every
-- call, written or not: a call that finds the set behind (a claim's
-- lease, a set lost with its node's Redis) puts it right.
if keep and e.reason == ACTIVE then
  local due = e.untl
  if e.endedAt > 0 and e.endedAt < due then due = e.endedAt end
  redis.call('ZADD', KEYS[2], due, ARGV[8])
elseif keep and e.ack > 0 and not has(e.flags, CONFIRMED) then
  redis.call('ZADD', KEYS[2], e.ack, ARGV[8])
else
  redis.call('ZREM', KEYS[2], ARGV[8])
end

return { now, keep and 1 or 0, e.flags, e.last, e.reason, e.endedAt, endedNow and 1 or 0, e.warn, e.exp, e.uid }
