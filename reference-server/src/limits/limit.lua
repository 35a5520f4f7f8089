-- One limiter decision, counted and decided in one atomic step: the Redis twin of limiter.rs, which
-- says what each rule means. Times are the server's clock (given by the caller, so the test clock works).
--
-- KEYS[1]  the entry, a hash: ws = window start (sliding: the latest attempt), c = count, lu = locked until
-- KEYS[2]  sliding windows only: the attempts that still count, a sorted set scored by time
-- ARGV     op (attempt | peek | give_back), now_ms, limit, window_ms, lockout (0 | 1), lockout_ms,
--          kind (0 fixed | 1 sliding | 2 aligned to the clock), extends (0 | 1), ticket window start (give_back), attempt member (sliding)
--
-- attempt: {1, count, window start} when allowed, {0, retry_after_ms} when refused
-- peek: 1 when an attempt would be refused now, else 0; nothing is counted
-- give_back: 0; the attempt the ticket names no longer counts (nothing once its window or a lockout began)

local entry, attempts = KEYS[1], KEYS[2]
local op = ARGV[1]
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local lockout = ARGV[5] == '1'
local lockout_ms = tonumber(ARGV[6])
local sliding = ARGV[7] == '1'
-- Aligned windows open at every multiple of the window on the server's clock; fixed ones at a key's first
-- attempt.
local opens = now
if ARGV[7] == '2' then
  opens = now - now % window
end
local extends = ARGV[8] == '1'
-- Ten years: the longest any key is kept.
local max_ttl = 315360000000

-- Integers as integers: Lua would write large numbers in exponent notation.
local function int(x)
  return string.format('%d', x)
end

local fields = redis.call('HMGET', entry, 'ws', 'c', 'lu')
local exists = fields[1] ~= false
local ws = tonumber(fields[1]) or opens
local c = tonumber(fields[2]) or 0
local lu = tonumber(fields[3]) or 0

-- Keeps the entry until its window and its lockout have passed. The server's clock runs at least as fast
-- as real time (it only ever moves forward), so an expiry in real time is never early.
local function save()
  redis.call('HSET', entry, 'ws', int(ws), 'c', int(c), 'lu', int(lu))
  local ttl = math.min(math.max(ws + window, lu) - now, max_ttl) + 1000
  redis.call('PEXPIRE', entry, int(ttl))
  if sliding then
    redis.call('PEXPIRE', attempts, int(ttl))
  end
end

local function fixed_attempt()
  if now < lu then
    c = c + 1
    if lockout and extends then
      lu = now + lockout_ms
    end
    save()
    return {0, lu - now}
  end
  if now >= ws + window or lu ~= 0 then
    ws, c, lu = opens, 0, 0
  end
  if c >= limit then
    if not lockout then
      save()
      return {0, ws + window - now}
    end
    c = c + 1
    lu = math.max(now + lockout_ms, now + 1)
    save()
    return {0, lu - now}
  end
  c = c + 1
  save()
  return {1, c, ws}
end

local function sliding_attempt()
  redis.call('ZREMRANGEBYSCORE', attempts, '-inf', int(now - window))
  ws = now
  if now < lu then
    if lockout and extends then
      lu = now + lockout_ms
    end
    save()
    return {0, lu - now}
  end
  if lu ~= 0 then
    -- A lockout has just ended: start from nothing.
    lu = 0
    redis.call('DEL', attempts)
  end
  local used = redis.call('ZCARD', attempts)
  if used >= limit then
    if not lockout then
      local oldest = redis.call('ZRANGE', attempts, 0, 0, 'WITHSCORES')
      local retry = window
      if oldest[2] then
        retry = tonumber(oldest[2]) + window - now
      end
      c = used
      save()
      return {0, retry}
    end
    lu = math.max(now + lockout_ms, now + 1)
    c = used
    save()
    return {0, lu - now}
  end
  redis.call('ZADD', attempts, int(now), ARGV[10])
  c = used + 1
  save()
  return {1, c, now}
end

if op == 'attempt' then
  if sliding then
    return sliding_attempt()
  end
  return fixed_attempt()
end

if op == 'peek' then
  if now < lu then
    return 1
  end
  if sliding then
    local counting = redis.call('ZCOUNT', attempts, '(' .. int(now - window), '+inf')
    if counting >= limit then
      return 1
    end
    return 0
  end
  if exists and now < ws + window and c >= limit then
    return 1
  end
  return 0
end

if op == 'give_back' then
  if not exists or lu ~= 0 then
    return 0
  end
  if sliding then
    redis.call('ZREM', attempts, ARGV[10])
    return 0
  end
  if ws == tonumber(ARGV[9]) and c > 0 then
    redis.call('HSET', entry, 'c', int(c - 1))
  end
  return 0
end

return redis.error_reply('unknown limiter operation ' .. tostring(op))
