'use strict'
// Owns the server's settings: every environment variable read once and checked here. A wrong value is
// collected with the others, so the server stops at start naming every bad variable (exit 2, in server.js).

const FAULTS = Object.freeze([
  'trust-proxy',
  'email-limit-keyed-by-ip',
  'retry-after-ms',
  'policy-window-ms',
  'refusals-not-counted'
])

const LIMITER_ORDERS = Object.freeze(['email-first', 'ip-first'])

// express-rate-limit's MemoryStore runs a setInterval of windowMs, which node caps at 2^31 - 1 ms.
const MAX_WINDOW_MS = 2 ** 31 - 1

class ConfigError extends Error {
  constructor (problems) {
    super(`invalid configuration: ${problems.join('; ')}`)
    this.problems = problems
  }
}

function load (env = process.env) {
  const problems = []
  // An empty variable counts as unset.
  const text = (name) => (env[name] === undefined || env[name] === '' ? undefined : env[name])

  const int = (name, fallback, min = 1, max = Number.MAX_SAFE_INTEGER) => {
    const value = text(name)
    if (value === undefined) return fallback
    const number = /^\d+$/.test(value) ? Number(value) : NaN
    if (!(number >= min && number <= max)) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`)
      return fallback
    }
    return number
  }
  const windowMs = (name, fallback) => int(name, fallback, 1, MAX_WINDOW_MS)

  const choice = (name, allowed, fallback) => {
    const value = text(name)
    if (value === undefined) return fallback
    if (allowed.includes(value)) return value
    problems.push(`${name} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`)
    return fallback
  }

  const account = (userName, passwordName) => {
    const username = text(userName)
    const password = text(passwordName)
    if (username === undefined && password === undefined) return null
    if (username === undefined || password === undefined) {
      problems.push(`${userName} and ${passwordName} go together: set both or neither`)
      return null
    }
    return { username, password }
  }

  const jwtSecret = text('APPMIXER_JWT_SECRET') ?? null
  if (jwtSecret !== null && jwtSecret.length < 16) {
    problems.push('APPMIXER_JWT_SECRET must be at least 16 characters long')
  }

  const scryptCost = int('PASSWORD_SCRYPT_COST', 16384, 2, 2 ** 20)
  if (!Number.isInteger(Math.log2(scryptCost))) {
    problems.push(`PASSWORD_SCRYPT_COST must be a power of two, not ${scryptCost}`)
  }

  const admin = account('ADMIN_USERNAME', 'ADMIN_PASSWORD')
  const adminEmail = text('ADMIN_EMAIL')
  if (adminEmail !== undefined && admin === null) {
    problems.push('ADMIN_EMAIL needs ADMIN_USERNAME and ADMIN_PASSWORD')
  }

  const config = {
    host: text('HOST') ?? '127.0.0.1',
    port: int('PORT', 8080, 0, 65535),
    signup: {
      emailLimit: int('USER_SIGNUP_RATE_LIMIT_EMAIL', 10),
      emailWindowMs: windowMs('USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS', 3600000),
      ipLimit: int('USER_SIGNUP_RATE_LIMIT_IP', 50),
      ipWindowMs: windowMs('USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS', 3600000),
      order: choice('SIGNUP_LIMITER_ORDER', LIMITER_ORDERS, 'email-first'),
      createScope: text('API_USER_CREATE_SCOPE') ?? null
    },
    creditsafe: {
      invalidLimit: int('CREDITSAFE_INVALID_LIMIT', 5),
      invalidWindowMs: windowMs('CREDITSAFE_INVALID_WINDOW_MS', 120000),
      lockoutThreshold: int('CREDITSAFE_LOCKOUT_THRESHOLD', 10000),
      lockoutWindowMs: windowMs('CREDITSAFE_LOCKOUT_WINDOW_MS', 300000),
      tokenLifetimeS: int('CREDITSAFE_TOKEN_LIFETIME_S', 3600),
      account: account('CREDITSAFE_USERNAME', 'CREDITSAFE_PASSWORD')
    },
    admin: admin && { ...admin, email: adminEmail ?? admin.username },
    jwtSecret,
    appmixerTokenLifetimeS: int('APPMIXER_TOKEN_LIFETIME_S', 30 * 24 * 3600),
    scryptCost,
    trustForwardedFor: choice('TRUST_FORWARDED_FOR', ['0', '1'], '0') === '1',
    fault: choice('EXPRESS_TARGET_FAULT', FAULTS, null)
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

module.exports = { load, ConfigError, FAULTS, LIMITER_ORDERS }
