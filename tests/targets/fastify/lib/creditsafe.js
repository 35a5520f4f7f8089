'use strict'
// Owns Creditsafe Connect POST /authenticate as a Fastify plugin: RS256 tokens, the identical-invalid-request
// limit (a @fastify/rate-limit route limit) and the overall threshold with its lockout (lockout.js).

const { createHash, generateKeyPairSync } = require('node:crypto')
const jwt = require('jsonwebtoken')

const { clientAddress } = require('./client-address')
const { httpError } = require('./errors')
const { Lockout } = require('./lockout')
const { hashPassword, verifyPassword } = require('./passwords')

const LOCKOUT_MESSAGE = 'Too many requests to the authenticate endpoint. Please try again later.'
const INVALID_MESSAGE = 'Too many identical invalid requests. Please try again later.'

// The body is optional (an empty one parses as null): missing credentials are invalid ones (401); wrong
// types and unknown fields are a 400 from validation, so a body that gets this far is flat.
const authenticateBody = {
  type: ['object', 'null'],
  properties: {
    username: { type: 'string', maxLength: 256 },
    password: { type: 'string', maxLength: 1024 }
  },
  additionalProperties: false
}

/** The same JSON whatever its key order or whitespace, so identical requests share one key. */
function canonicalJson (value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
    return `{${members.join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

function sha256 (data) {
  return createHash('sha256').update(data).digest('base64url')
}

function signingKey () {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privateKey, kid: sha256(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 27) }
}

async function creditsafe (fastify, { config }) {
  const settings = config.creditsafe
  const { fault } = config
  const key = signingKey()
  const account = settings.account && {
    username: settings.account.username,
    password: await hashPassword(settings.account.password, config.scryptCost)
  }
  const clientOf = (request) => clientAddress(request, config.trustForwardedFor)

  const credentialsValid = async (body) => Boolean(
    account && body?.username === account.username && typeof body.password === 'string' &&
    await verifyPassword(account.password, body.password)
  )

  // The lockout counts in onRequest, before the body is read: every request counts, refused ones included.
  const lockoutRetryAfter = (ms) => fault === 'retry-after-ms' ? ms : Math.ceil(ms / 1000)
  let countRequest
  if (fault === 'short-lockout') {
    // Just a rate limit: refused until the window that opened at the client's first request ends.
    const limiter = fastify.createRateLimit({
      max: settings.lockoutThreshold,
      timeWindow: settings.lockoutWindowMs,
      keyGenerator: clientOf
    })
    countRequest = async (request) => {
      const limit = await limiter(request)
      if (limit.isExceeded) throw httpError(429, LOCKOUT_MESSAGE, { 'retry-after': limit.ttlInSeconds })
    }
  } else {
    const lockout = new Lockout({ threshold: settings.lockoutThreshold, windowMs: settings.lockoutWindowMs })
    fastify.addHook('onClose', async () => lockout.close())
    countRequest = (request, reply, done) => {
      const lockedForMs = lockout.hit(clientOf(request))
      done(lockedForMs === null
        ? undefined
        : httpError(429, LOCKOUT_MESSAGE, { 'retry-after': lockoutRetryAfter(lockedForMs) }))
    }
    if (fault === 'successes-not-counted') {
      // Like a skipSuccessfulRequests option: a 200 takes its count back.
      fastify.addHook('onResponse', (request, reply, done) => {
        if (reply.statusCode === 200) lockout.forgive(clientOf(request))
        done()
      })
    }
  }

  fastify.decorateRequest('credentialsValid', false)

  fastify.post('/authenticate', {
    schema: { body: authenticateBody },
    onRequest: countRequest,
    config: {
      // Identical invalid requests: per client and body, only invalid ones count (valid credentials are on
      // the allow list), and the one after the limit is refused until the window ends.
      rateLimit: {
        hook: 'preHandler',
        max: fault === 'invalid-limit-one-low' ? settings.invalidLimit - 1 : settings.invalidLimit,
        timeWindow: settings.invalidWindowMs,
        // Hashed, so a key stays small whatever the body's size.
        keyGenerator: (request) => `${clientOf(request)} ${sha256(canonicalJson(request.body))}`,
        allowList: async (request) => {
          request.credentialsValid = await credentialsValid(request.body)
          return request.credentialsValid
        },
        errorResponseBuilder: () => httpError(429, INVALID_MESSAGE)
      }
    }
  }, async (request) => {
    if (!request.credentialsValid) throw httpError(401, 'Invalid username or password')
    const token = jwt.sign({ username: account.username, scope: ['connect_api'] }, key.privateKey, {
      algorithm: 'RS256',
      keyid: key.kid,
      expiresIn: settings.tokenLifetimeS,
      notBefore: 0,
      subject: account.username
    })
    return { token }
  })
}

module.exports = { creditsafe, canonicalJson, LOCKOUT_MESSAGE, INVALID_MESSAGE }
