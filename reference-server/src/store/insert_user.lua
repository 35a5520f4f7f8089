-- Inserts a user unless its username or e-mail is taken or the store is full, in one atomic step.
--
-- KEYS[1] the user's hash, KEYS[2] the username index, KEYS[3] the e-mail index, KEYS[4] the user count
-- ARGV    max_users, has_username (0 | 1), has_email (0 | 1), the id, then the hash's field/value pairs
--
-- Returns 'ok', 'username' or 'email' (taken), or 'full'.

if ARGV[2] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  return 'username'
end
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then
  return 'email'
end
if tonumber(redis.call('GET', KEYS[4]) or '0') >= tonumber(ARGV[1]) then
  return 'full'
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if ARGV[2] == '1' then
  redis.call('SET', KEYS[2], ARGV[4])
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[3], ARGV[4])
end
redis.call('INCR', KEYS[4])
return 'ok'
