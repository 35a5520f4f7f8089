'use strict'
// Owns "who is the client" for every limit: the connection's peer, or, only when TRUST_FORWARDED_FOR=1 says a
// proxy sits in front, the last X-Forwarded-For hop (the one that proxy appended; earlier hops are whatever
// the client sent). Limits never key on request.ip: that follows Fastify's trustProxy, not this setting.

function lastForwardedHop (request) {
  const header = request.headers['x-forwarded-for']
  if (typeof header !== 'string') return null
  const hops = header.split(',').map((hop) => hop.trim()).filter(Boolean)
  return hops.length ? hops[hops.length - 1] : null
}

function clientAddress (request, trustForwardedFor) {
  return (trustForwardedFor && lastForwardedHop(request)) || request.socket.remoteAddress
}

module.exports = { clientAddress }
