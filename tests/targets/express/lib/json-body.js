'use strict'
// Owns request bodies: JSON only, at most 64 KiB. A request without a body gets req.body = null (Creditsafe's
// body is optional; the routes' schemas decide); a body of another type is 415, an oversized one 413 and
// malformed JSON 400 (lib/errors.js words those without quoting the body).

const express = require('express')
const { HttpError } = require('./errors')

const parseJson = express.json({ limit: '64kb', strict: true, type: 'application/json' })

function hasBody (req) {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

function jsonBody (req, res, next) {
  if (!hasBody(req)) {
    req.body = null
    return next()
  }
  if (!req.is('application/json')) {
    return next(new HttpError(415, 'Content-Type must be application/json'))
  }
  parseJson(req, res, (err) => {
    if (!err && req.body === undefined) req.body = null
    next(err)
  })
}

module.exports = { jsonBody }
