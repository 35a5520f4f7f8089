'use strict'
// Owns the server's settings: read once from the environment and checked, so a wrong value stops the
// server at start with the variable named (exit 2 in server.js), never a silent default.

const FAULTS = Object.freeze([
  'trust-proxy',
  'email-case-kept',
  'retry-after-ms',
  'invalid-limit-one-low',
  'short-lockout',
  'parse-error-echo',
  'duplicate-500',
  'successes-not-counted'
])

const LIMITER_ORDERS = Object.freeze(['email-first', 'ip-first'])

class ConfigError extends Error {}

/** Reads variables with one rule each, collecting every problem instead of stopping at the first. */
function reader (env) {
  const problems = []
  const raw = (name) => {
    const value = env[name]
    return value === undefined || value === '' ? undefined : value
  }

  const integer = (name, fallback, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}) => {
    const value = raw(name)
    if (value === undefined) return fallback
    if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`)
      return fallback
    }
    return Number(value)
  }

  const flag = (name) => {
    const value = raw(name)
    if (value === undefined) return false
    if (['1', 'true'].includes(value.toLowerCase())) return true
    if (['0', 'false'].includes(value.toLowerCase())) return false
    problems.push(`${name} must be 1 or 0 (got ${JSON.stringify(value)})`)
    return false
  }

  const oneOf = (name, allowed, fallback) => {
    const value = raw(name)
    if (value === undefined) return fallback
    if (!allowed.includes(value)) {
      problems.push(`${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`)
      return fallback
    }
    return value
  }

  return { problems, raw, integer, flag, oneOf }
}

function load (env = process.env) {
  const { problems, raw, integer, flag, oneOf } = reader(env)

  const scryptCost = integer('PASSWORD_SCRYPT_COST', 16384, { min: 2, max: 1 << 20 })
  if ((scryptCost & (scryptCost - 1)) !== 0) {
    problems.push(`PASSWORD_SCRYPT_COST must be a power of two (got ${scryptCost})`)
  }

  const jwtSecret = raw('APPMIXER_JWT_SECRET') ?? null
  if (jwtSecret !== null && jwtSecret.length < 16) {
    problems.push('APPMIXER_JWT_SECRET must be at least 16 characters long')
  }

  const account = (userVar, passwordVar) => {
    const username = raw(userVar)
    const password = raw(passwordVar)
    if ((username === undefined) !== (password === undefined)) {
      problems.push(`${userVar} and ${passwordVar} must be set together`)
      return null
    }
    return username === undefined ? null : { username, password }
  }

  const admin = account('ADMIN_USERNAME', 'ADMIN_PASSWORD')
  const creditsafeAccount = account('CREDITSAFE_USERNAME', 'CREDITSAFE_PASSWORD')

  const config = {
    host: raw('HOST') ?? '127.0.0.1',
    port: integer('PORT', 8080, { min: 0, max: 65535 }),
    signup: {
      emailLimit: integer('USER_SIGNUP_RATE_LIMIT_EMAIL', 10),
      emailWindowMs: integer('USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS', 3600000),
      ipLimit: integer('USER_SIGNUP_RATE_LIMIT_IP', 50),
      ipWindowMs: integer('USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS', 3600000),
      limiterOrder: oneOf('SIGNUP_LIMITER_ORDER', LIMITER_ORDERS, 'email-first'),
      createScope: raw('API_USER_CREATE_SCOPE') ?? null
    },
    creditsafe: {
      invalidLimit: integer('CREDITSAFE_INVALID_LIMIT', 5),
      invalidWindowMs: integer('CREDITSAFE_INVALID_WINDOW_MS', 120000),
      lockoutThreshold: integer('CREDITSAFE_LOCKOUT_THRESHOLD', 10000),
      lockoutWindowMs: integer('CREDITSAFE_LOCKOUT_WINDOW_MS', 300000),
      tokenLifetimeS: integer('CREDITSAFE_TOKEN_LIFETIME_S', 3600),
      account: creditsafeAccount
    },
    admin: admin && { ...admin, email: raw('ADMIN_EMAIL') ?? admin.username },
    jwtSecret,
    tokenLifetimeS: integer('APPMIXER_TOKEN_LIFETIME_S', 30 * 24 * 3600),
    scryptCost,
    trustForwardedFor: flag('TRUST_FORWARDED_FOR'),
    logRequests: flag('LOG_REQUESTS'),
    fault: oneOf('FASTIFY_TARGET_FAULT', FAULTS, null)
  }

  if (problems.length) {
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  }
  return config
}

module.exports = { load, ConfigError, FAULTS, LIMITER_ORDERS }
