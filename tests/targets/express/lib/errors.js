'use strict'
// Owns every error answer: one JSON shape, {"statusCode":N,"error":"<reason phrase>","message":"…"}, sent as
// application/json; charset=utf-8 whatever failed (a route, the body parser, validation, a limit, no route).
// Parser messages are replaced by fixed ones: node's JSON.parse message quotes the body it choked on.

const { STATUS_CODES } = require('node:http')

class HttpError extends Error {
  constructor (statusCode, message, headers = {}) {
    super(message)
    this.statusCode = statusCode
    this.headers = headers
  }
}

function sendError (res, statusCode, message) {
  res.status(statusCode).json({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message })
}

// What body-parser's errors (err.type) become; none of these messages carries a byte of the body.
const BODY_ERRORS = {
  'entity.parse.failed': [400, 'Body is not valid JSON'],
  'entity.too.large': [413, 'Body is larger than 64 KiB'],
  'encoding.unsupported': [415, 'Unsupported content encoding'],
  'charset.unsupported': [415, 'Unsupported charset'],
  'request.aborted': [400, 'Request aborted'],
  'request.size.invalid': [400, 'Body length does not match Content-Length']
}

// Express knows an error handler by its four parameters.
function errorHandler (err, req, res, next) { // eslint-disable-line no-unused-vars
  if (res.headersSent) {
    req.socket.destroy()
    return
  }
  if (err instanceof HttpError) {
    res.set(err.headers)
    return sendError(res, err.statusCode, err.message)
  }
  if (BODY_ERRORS[err.type]) {
    const [statusCode, message] = BODY_ERRORS[err.type]
    return sendError(res, statusCode, message)
  }
  const status = err.status ?? err.statusCode
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    return sendError(res, status, STATUS_CODES[status] ?? 'Bad request')
  }
  console.error(err)
  sendError(res, 500, 'An internal server error occurred')
}

function notFound (req, res) {
  sendError(res, 404, `No route for ${req.method} ${req.path}`)
}

module.exports = { HttpError, sendError, errorHandler, notFound }
