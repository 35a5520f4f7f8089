'use strict'
// Owns request validation: a zod schema per body, checked in a middleware that answers 400 naming the field
// and the rule (zod's messages name the expected type or length, never the value sent).

const { HttpError } = require('./errors')

function describe (error) {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ')
}

/** Replaces req.body with the schema's output, or passes a 400 on. */
function validateBody (schema) {
  return (req, res, next) => {
    const result = schema.safeParse(req.body)
    if (!result.success) return next(new HttpError(400, describe(result.error)))
    req.body = result.data
    next()
  }
}

module.exports = { validateBody }
