'use strict'
// Owns "which client is this" for every limit: the TCP peer, unless TRUST_FORWARDED_FOR=1 says a proxy sits in
// front, then the last X-Forwarded-For hop (the one that proxy appended; earlier hops are the client's own
// words). Limits never key on req.ip, which follows Express's 'trust proxy' setting instead.

function lastForwardedHop (req) {
  const header = req.headers['x-forwarded-for']
  if (typeof header !== 'string') return undefined
  return header.split(',').map((hop) => hop.trim()).filter((hop) => hop !== '').pop()
}

function clientAddressOf ({ trustForwardedFor }) {
  return (req) => (trustForwardedFor && lastForwardedHop(req)) || req.socket.remoteAddress
}

module.exports = { clientAddressOf }
