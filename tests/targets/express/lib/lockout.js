'use strict'
// Owns Creditsafe's overall threshold and its lockout. express-rate-limit counts every request to the endpoint
// (the counter runs before the body is read, so successes, 400s and 429s all count) in a fixed window that opens
// at the client's first request. Request number threshold + 1 is refused by the limiter, whose handler then
// locks the client out for a full window from that request: a small map checked before the limiter, because
// the limiter alone would admit requests again when the counting window ends. Requests refused during the
// lockout are answered by that check and neither count nor extend it. Counting is synchronous up to the store's
// increment, so on node's one thread the threshold is exact however many requests are in flight.

const { rateLimit } = require('express-rate-limit')
const { sendError } = require('./errors')
const { MESSAGES, sharedOptions } = require('./limits')

function creditsafeLockout ({ threshold, windowMs, clientOf, fault }) {
  const lockedUntil = new Map()
  const sweeper = setInterval(() => {
    const now = Date.now()
    for (const [client, until] of lockedUntil) if (until <= now) lockedUntil.delete(client)
  }, Math.max(windowMs, 1000))
  sweeper.unref()

  // policy-window-ms: the hand-written policy copies windowMs as it is, milliseconds where w is seconds.
  const policyWindow = fault === 'policy-window-ms' ? windowMs : Math.ceil(windowMs / 1000)

  // A lockout refusal. Its fields are written here, replacing the limiter's: the limiter would say when its
  // counting window ends, which is earlier than the end of the lockout.
  const refuse = (res, until) => {
    const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000))
    res.set('Retry-After', String(seconds))
    res.set('RateLimit', `"lockout"; r=0; t=${seconds}`)
    res.set('RateLimit-Policy', `"lockout"; q=${threshold}; w=${policyWindow}`)
    sendError(res, 429, MESSAGES.lockout)
  }

  const lock = (client) => {
    // Requests already in flight when the lockout began are refused too, without moving its end.
    if (!lockedUntil.has(client)) lockedUntil.set(client, Date.now() + windowMs)
    return lockedUntil.get(client)
  }

  const lockedOut = (req, res, next) => {
    const client = clientOf(req)
    const until = lockedUntil.get(client)
    if (until !== undefined && until > Date.now()) return refuse(res, until)
    lockedUntil.delete(client)
    next()
  }

  const counter = rateLimit({
    ...sharedOptions,
    windowMs,
    limit: threshold,
    identifier: 'lockout',
    keyGenerator: clientOf,
    handler: (req, res) => refuse(res, lock(clientOf(req))),
    // refusals-not-counted: a 429 takes its count back ("a refused request did no work").
    ...(fault === 'refusals-not-counted'
      ? { skipFailedRequests: true, requestWasSuccessful: (req, res) => res.statusCode !== 429 }
      : {})
  })

  return [lockedOut, counter]
}

module.exports = { creditsafeLockout }
