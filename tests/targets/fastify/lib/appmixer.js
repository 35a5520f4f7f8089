'use strict'
// Owns the Appmixer user API (cloud docs) as a Fastify plugin: POST /user/auth, POST /user with its two
// signup limits, GET /user, and the HS256 tokens they hand out and accept.

const jwt = require('jsonwebtoken')

const { clientAddress } = require('./client-address')
const { httpError } = require('./errors')
const { normalizeEmail, publicUser } = require('./users')

const EMAIL_LIMIT_MESSAGE = 'Too many signup attempts for this email address. Please try again later.'
const IP_LIMIT_MESSAGE = 'Too many signup attempts from your IP address. Please try again later.'

const signinBody = {
  type: 'object',
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 256 },
    email: { type: 'string', minLength: 1, maxLength: 256 },
    password: { type: 'string', minLength: 1, maxLength: 1024 }
  },
  required: ['password'],
  additionalProperties: false,
  anyOf: [{ required: ['username'] }, { required: ['email'] }]
}

const signupBody = {
  type: 'object',
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 256 },
    // Surrounding spaces are allowed (and trimmed): one mailbox however it is written.
    email: { type: 'string', maxLength: 254, pattern: '^\\s*[^\\s@]+@[^\\s@]+\\.[^\\s@]+\\s*$' },
    password: { type: 'string', minLength: 1, maxLength: 1024 }
  },
  required: ['username', 'email', 'password'],
  additionalProperties: false
}

async function appmixer (fastify, { config, users }) {
  const secret = config.jwtSecret
  const { signup, fault } = config

  const signToken = (user) => jwt.sign({ id: user.id, scope: user.scope }, secret, {
    algorithm: 'HS256',
    expiresIn: config.tokenLifetimeS
  })

  /** The user a bearer token names, null without an Authorization header; a 401 for any other token. */
  const bearerUser = (request) => {
    const header = (request.headers.authorization ?? '').trim()
    if (!header) return null

    const [scheme, token, extra] = header.split(/\s+/)
    if (scheme.toLowerCase() !== 'bearer' || !token || extra !== undefined) {
      throw httpError(401, 'Bearer token required')
    }

    let claims
    try {
      claims = jwt.verify(token, secret, { algorithms: ['HS256'] })
    } catch {
      throw httpError(401, 'Invalid token')
    }

    const user = users.findById(claims.id)
    if (!user) throw httpError(401, 'Invalid token')
    return user
  }

  // Signup limits, from @fastify/rate-limit's in-memory store. Two limiters on one route cannot both be
  // route `config.rateLimit` hooks (the plugin runs one per request), so each is a createRateLimit() check
  // in its own preHandler: after schema validation, so an invalid body is answered 400 and never counted.
  const isAdmin = (request) => Boolean(request.caller?.scope.includes('admin'))
  const limitHook = (limiter, message) => async (request) => {
    const limit = await limiter(request)
    if (!limit.isAllowed && limit.isExceeded) {
      throw httpError(429, message, { 'retry-after': limit.ttlInSeconds })
    }
  }

  const emailLimit = limitHook(fastify.createRateLimit({
    max: signup.emailLimit,
    timeWindow: signup.emailWindowMs,
    allowList: isAdmin,
    keyGenerator: (request) => fault === 'email-case-kept'
      ? request.body.email.trim()
      : normalizeEmail(request.body.email)
  }), EMAIL_LIMIT_MESSAGE)

  const ipLimit = limitHook(fastify.createRateLimit({
    max: signup.ipLimit,
    timeWindow: signup.ipWindowMs,
    allowList: isAdmin,
    // Under trust-proxy the server runs with Fastify's `trustProxy: true` and this limiter keeps the
    // plugin's default key, request.ip: the first X-Forwarded-For hop, which the client writes itself.
    ...(fault === 'trust-proxy' ? {} : { keyGenerator: (request) => clientAddress(request, config.trustForwardedFor) })
  }), IP_LIMIT_MESSAGE)

  // With API_USER_CREATE_SCOPE set only a token with that scope may create users; an admin token also
  // bypasses the signup limits.
  const authorizeSignup = async (request) => {
    request.caller = bearerUser(request)
    if (!signup.createScope) return
    if (!request.caller) throw httpError(401, 'Creating users requires a token')
    if (!request.caller.scope.includes(signup.createScope)) throw httpError(403, 'Insufficient scope')
  }

  fastify.decorateRequest('caller', null)

  fastify.post('/user/auth', { schema: { body: signinBody } }, async (request) => {
    const user = await users.verify(request.body)
    if (!user) throw httpError(401, 'Invalid username or password')
    return { user: publicUser(user), token: signToken(user) }
  })

  fastify.post('/user', {
    schema: { body: signupBody },
    preHandler: [
      authorizeSignup,
      ...(signup.limiterOrder === 'ip-first' ? [ipLimit, emailLimit] : [emailLimit, ipLimit])
    ]
  }, async (request) => {
    let user
    try {
      user = await users.create(request.body)
    } catch (err) {
      // duplicate-500: the unique-index error is left to bubble up, and the error handler answers 500.
      if (err.code === 'EDUPLICATE' && fault !== 'duplicate-500') {
        throw httpError(409, 'A user with this username or email already exists')
      }
      throw err
    }
    return { user: publicUser(user), token: signToken(user) }
  })

  fastify.get('/user', async (request) => {
    const user = bearerUser(request)
    if (!user) throw httpError(401, 'Missing authentication')
    return { ...publicUser(user), scope: user.scope }
  })
}

module.exports = { appmixer, EMAIL_LIMIT_MESSAGE, IP_LIMIT_MESSAGE }
