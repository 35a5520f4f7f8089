'use strict'
// Owns Creditsafe Connect's POST /authenticate as an Express router: RS256 tokens (a key made at start, named
// by its kid), the identical-invalid-request limit (express-rate-limit, keyed per client address and body,
// counting invalid requests only) and, before anything else, the overall threshold and lockout (lockout.js).

const { createHash, generateKeyPairSync, randomUUID } = require('node:crypto')
const express = require('express')
const jwt = require('jsonwebtoken')
const { rateLimit } = require('express-rate-limit')
const { z } = require('zod')

const { HttpError } = require('./errors')
const { jsonBody } = require('./json-body')
const { MESSAGES, sharedOptions, refuseWith } = require('./limits')
const { creditsafeLockout } = require('./lockout')
const { hashPassword, verifyPassword } = require('./passwords')
const { validateBody } = require('./validate')

// The body is optional (no body is null): missing credentials are invalid credentials, answered 401. Wrong
// types and unknown fields are a 400.
const authenticateSchema = z.strictObject({
  username: z.string().max(256).optional(),
  password: z.string().max(1024).optional()
}).nullable()

/** The body as canonical JSON (keys sorted at every level), so key order and whitespace do not matter. */
function canonicalJson (value) {
  return JSON.stringify(value, (key, member) => (member && typeof member === 'object' && !Array.isArray(member)
    ? Object.fromEntries(Object.keys(member).sort().map((name) => [name, member[name]]))
    : member))
}

const digest = (text) => createHash('sha256').update(text).digest('base64url')

function signingKey () {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = digest(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 27)
  return { privateKey, kid }
}

async function creditsafeRouter ({ config, clientOf }) {
  const { creditsafe: settings, fault, scryptCost } = config
  const key = signingKey()
  // The one Connect account, its password kept hashed like every other.
  const account = settings.account
    ? { username: settings.account.username, passwordHash: await hashPassword(settings.account.password, scryptCost) }
    : null

  const credentialsValid = async (body) => Boolean(
    account && body?.username === account.username && body.password !== undefined &&
    await verifyPassword(account.passwordHash, body.password)
  )

  const identicalInvalid = rateLimit({
    ...sharedOptions,
    windowMs: settings.invalidWindowMs,
    limit: settings.invalidLimit,
    identifier: 'identical-invalid',
    // Hashed, so a key stays small whatever the body.
    keyGenerator: (req) => `${clientOf(req)} ${digest(canonicalJson(req.body))}`,
    // Valid credentials are not counted (and not limited): only invalid requests are.
    skip: async (req) => {
      req.credentialsValid = await credentialsValid(req.body)
      return req.credentialsValid
    },
    handler: refuseWith(MESSAGES.identicalInvalid),
    // retry-after-ms: the option takes seconds, and was given the window in milliseconds.
    ...(fault === 'retry-after-ms' ? { retryAfter: settings.invalidWindowMs } : {})
  })

  const router = express.Router()
  router.post('/authenticate',
    ...creditsafeLockout({
      threshold: settings.lockoutThreshold,
      windowMs: settings.lockoutWindowMs,
      clientOf,
      fault
    }),
    jsonBody,
    validateBody(authenticateSchema),
    identicalInvalid,
    (req, res) => {
      if (!req.credentialsValid) throw new HttpError(401, 'Invalid username or password')
      const now = Math.floor(Date.now() / 1000)
      const token = jwt.sign({
        auth_time: now,
        client_id: 'connect.api.client',
        username: account.username,
        scope: ['connect_api'],
        amr: ['pwd']
      }, key.privateKey, {
        algorithm: 'RS256',
        keyid: key.kid,
        expiresIn: settings.tokenLifetimeS,
        notBefore: 0,
        issuer: 'authconform-express-target',
        audience: ['connect_api'],
        subject: account.username,
        jwtid: randomUUID()
      })
      res.json({ token })
    })
  return router
}

module.exports = { creditsafeRouter, canonicalJson }
