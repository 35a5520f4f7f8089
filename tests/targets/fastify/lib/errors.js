'use strict'
// Owns every error answer: one body shape, {"statusCode":N,"error":"Reason","message":"…"}, as JSON, whatever
// failed (a route, a hook, the body parser, schema validation, a rate limit or a missing route).

const { STATUS_CODES } = require('node:http')

/** An error that the handler below answers with its status and message. */
function httpError (statusCode, message, headers = {}) {
  const error = new Error(message)
  error.statusCode = statusCode
  error.headers = headers
  return error
}

function send (reply, statusCode, message) {
  return reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message })
}

function errorHandler (error, request, reply) {
  if (error.validation) {
    // Ajv's message names the field and the rule ("body/email must match pattern …"), never the value.
    return send(reply, 400, error.message)
  }

  const statusCode = Number.isInteger(error.statusCode) && error.statusCode >= 400 && error.statusCode < 600
    ? error.statusCode
    : 500
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed')
    return send(reply, statusCode, 'An internal server error occurred')
  }

  for (const [name, value] of Object.entries(error.headers ?? {})) {
    reply.header(name, value)
  }
  return send(reply, statusCode, error.message)
}

function notFoundHandler (request, reply) {
  return send(reply, 404, `Route ${request.method}:${request.url.split('?')[0]} not found`)
}

module.exports = { httpError, errorHandler, notFoundHandler }
