'use strict'
// Owns the Appmixer user API (cloud docs) as an Express router: POST /user/auth, POST /user with its two signup
// limits (per e-mail and per client address, express-rate-limit), GET /user, and the HS256 tokens.

const express = require('express')
const jwt = require('jsonwebtoken')
const { rateLimit } = require('express-rate-limit')
const { z } = require('zod')

const { HttpError } = require('./errors')
const { jsonBody } = require('./json-body')
const { MESSAGES, sharedOptions, refuseWith } = require('./limits')
const { DuplicateUser, normalizeEmail, publicUser } = require('./users')
const { validateBody } = require('./validate')

const signInSchema = z.strictObject({
  username: z.string().min(1).max(256).optional(),
  email: z.string().min(1).max(256).optional(),
  password: z.string().min(1).max(1024)
}).refine((body) => body.username !== undefined || body.email !== undefined, {
  message: 'username or email is required'
})

const signUpSchema = z.strictObject({
  username: z.string().min(1).max(256),
  // Surrounding spaces are allowed (the address is trimmed): one mailbox however it is written.
  email: z.string().max(254).regex(/^\s*[^\s@]+@[^\s@]+\.[^\s@]+\s*$/, 'must be an e-mail address'),
  password: z.string().min(1).max(1024)
})

function appmixerRouter ({ config, users, clientOf }) {
  const { signup, fault } = config
  const router = express.Router()

  const signToken = (user) => jwt.sign({ id: user.id, scope: user.scope }, config.jwtSecret, {
    algorithm: 'HS256',
    expiresIn: config.appmixerTokenLifetimeS
  })

  /** The user of the request's bearer token; null without an Authorization header, 401 for a bad token. */
  const bearerUser = (req) => {
    const header = req.get('authorization')
    if (header === undefined || header.trim() === '') return null
    const match = /^Bearer +([^\s]+) *$/i.exec(header)
    if (!match) throw new HttpError(401, 'Authorization must be a Bearer token')
    let claims
    try {
      claims = jwt.verify(match[1], config.jwtSecret, { algorithms: ['HS256'] })
    } catch {
      throw new HttpError(401, 'Invalid or expired token')
    }
    const user = typeof claims.id === 'string' ? users.get(claims.id) : null
    if (!user) throw new HttpError(401, 'Invalid or expired token')
    return user
  }

  // With API_USER_CREATE_SCOPE only a token with that scope may create users. An admin token also bypasses the
  // signup limits (their `skip`), so this runs before them.
  const authorizeSignup = (req, res, next) => {
    req.caller = bearerUser(req)
    if (signup.createScope !== null) {
      if (!req.caller) throw new HttpError(401, 'Creating users requires a token')
      if (!req.caller.scope.includes(signup.createScope)) throw new HttpError(403, 'Insufficient scope')
    }
    next()
  }

  const isAdmin = (req) => Boolean(req.caller?.scope.includes('admin'))

  // The signup limits run after validation: a body that fails it is answered 400 and never counts; every
  // attempt that passes counts, whether or not it creates a user. An attempt refused by the first limiter never
  // reaches the second.
  const ipOptions = {
    ...sharedOptions,
    skip: isAdmin,
    keyGenerator: clientOf
  }
  const ipLimiter = rateLimit({
    ...ipOptions,
    windowMs: signup.ipWindowMs,
    limit: signup.ipLimit,
    identifier: 'ip',
    handler: refuseWith(MESSAGES.ip),
    // trust-proxy: the server trusts every X-Forwarded-For hop and this limiter keeps the library's default
    // key, req.ip, which is then the first hop: whatever the client wrote.
    ...(fault === 'trust-proxy' ? { keyGenerator: undefined } : {})
  })
  const emailLimiter = rateLimit(fault === 'email-limit-keyed-by-ip'
    // The e-mail limiter made from the IP limiter's options, its key left as the client address.
    ? { ...ipOptions, windowMs: signup.emailWindowMs, limit: signup.emailLimit, identifier: 'email', handler: refuseWith(MESSAGES.email) }
    : {
        ...sharedOptions,
        skip: isAdmin,
        keyGenerator: (req) => normalizeEmail(req.body.email),
        windowMs: signup.emailWindowMs,
        limit: signup.emailLimit,
        identifier: 'email',
        handler: refuseWith(MESSAGES.email)
      })
  const signupLimiters = signup.order === 'ip-first' ? [ipLimiter, emailLimiter] : [emailLimiter, ipLimiter]

  router.post('/user/auth', jsonBody, validateBody(signInSchema), async (req, res) => {
    const user = await users.signIn(req.body)
    if (!user) throw new HttpError(401, 'Invalid username or password')
    res.json({ user: publicUser(user), token: signToken(user) })
  })

  router.post('/user', jsonBody, validateBody(signUpSchema), authorizeSignup, ...signupLimiters, async (req, res) => {
    let user
    try {
      user = await users.create(req.body)
    } catch (err) {
      if (err instanceof DuplicateUser) throw new HttpError(409, `A user with this ${err.field} already exists`)
      throw err
    }
    res.json({ user: publicUser(user), token: signToken(user) })
  })

  router.get('/user', (req, res) => {
    const user = bearerUser(req)
    if (!user) throw new HttpError(401, 'Missing Bearer token')
    res.json({ ...publicUser(user), scope: user.scope })
  })

  return router
}

module.exports = { appmixerRouter }
