-- Finds a user through an index, in one round trip.
--
-- KEYS[1] the username or e-mail index; ARGV[1] the prefix of user hashes (`PREFIX user:`)
--
-- Returns the user's hash as field/value pairs, or nil when the index names nobody.

local id = redis.call('GET', KEYS[1])
if not id then
  return false
end
return redis.call('HGETALL', ARGV[1] .. id)
