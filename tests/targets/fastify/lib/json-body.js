'use strict'
// Owns request bodies: JSON only (any other type is 415 because no other parser is registered), at most the
// server's bodyLimit (413). An empty JSON body parses as null, so a route's schema decides whether a body is
// optional (Creditsafe's is) instead of the parser refusing it.

const { httpError } = require('./errors')

function registerJsonBody (fastify, { fault }) {
  fastify.removeAllContentTypeParsers()

  // Fastify's own parser: secure-json-parse, and an error that never quotes the body.
  const parseJson = fastify.getDefaultJsonParser('error', 'error')

  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.trim() === '') {
      done(null, null)
      return
    }

    if (fault === 'parse-error-echo') {
      // The parser from the Fastify docs' example: JSON.parse, its error passed on with a 400. Node's
      // message quotes the start of the body ("Unexpected token … "{"password":"secr"... is not valid JSON").
      try {
        done(null, JSON.parse(body))
      } catch (err) {
        err.statusCode = 400
        done(err, undefined)
      }
      return
    }

    parseJson(request, body, (err, value) => {
      done(err ? httpError(400, 'Body is not valid JSON') : null, value)
    })
  })
}

module.exports = { registerJsonBody }
