'use strict'
// Owns what every express-rate-limit limiter of the server shares: the in-memory store it ships (the
// default), the IETF draft-8 RateLimit and RateLimit-Policy fields (each limiter names its policy with
// `identifier`), no X-RateLimit-* fields, and a 429 in the server's one error shape with the limit's own
// message. The library sets Retry-After (whole seconds until the key's window ends) before the handler runs.

const { sendError } = require('./errors')

const MESSAGES = Object.freeze({
  email: 'Too many signup attempts for this email address. Please try again later.',
  ip: 'Too many signup attempts from your IP address. Please try again later.',
  identicalInvalid: 'Too many identical invalid requests. Please try again later.',
  lockout: 'Too many requests to the authenticate endpoint. Please try again later.'
})

const sharedOptions = Object.freeze({
  standardHeaders: 'draft-8',
  legacyHeaders: false
})

/** An express-rate-limit `handler` answering 429 with `message`. */
function refuseWith (message) {
  return (req, res, next, options) => sendError(res, options.statusCode, message)
}

module.exports = { MESSAGES, sharedOptions, refuseWith }
