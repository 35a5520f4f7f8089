'use strict'
// Owns the Appmixer accounts, kept in memory like a collection with two unique indexes: usernames compared
// exactly as stored, e-mail addresses trimmed and lower-cased (one mailbox however it is written).

const { randomBytes } = require('node:crypto')
const { hashPassword, verifyPassword } = require('./passwords')

function normalizeEmail (email) {
  return email.trim().toLowerCase()
}

/** What a unique index violation looks like here (a database driver throws its own kind). */
class DuplicateUserError extends Error {
  constructor (field) {
    super(`duplicate key: ${field}`)
    this.code = 'EDUPLICATE'
    this.field = field
  }
}

class UserStore {
  constructor ({ scryptCost }) {
    this.scryptCost = scryptCost
    this.byId = new Map()
    this.byUsername = new Map()
    this.byEmail = new Map()
    // Unknown users are checked against this, so they take as long as a wrong password.
    this.decoy = hashPassword(randomBytes(16).toString('hex'), scryptCost)
  }

  assertUnique ({ username, email }) {
    if (this.byUsername.has(username)) throw new DuplicateUserError('username')
    if (this.byEmail.has(normalizeEmail(email))) throw new DuplicateUserError('email')
  }

  async create ({ username, email, password, scope = ['user'] }) {
    this.assertUnique({ username, email })
    const stored = await hashPassword(password, this.scryptCost)
    // Again after the hash: an identical signup may have been hashing at the same time.
    this.assertUnique({ username, email })

    const user = {
      id: randomBytes(12).toString('hex'),
      username,
      email: email.trim(),
      isActive: false,
      plan: 'free',
      scope,
      password: stored
    }
    this.byId.set(user.id, user)
    this.byUsername.set(user.username, user)
    this.byEmail.set(normalizeEmail(user.email), user)
    return user
  }

  findById (id) {
    return (typeof id === 'string' && this.byId.get(id)) || null
  }

  /** The user named by `username` when given, else by `email`, if the password matches; else null. */
  async verify ({ username, email, password }) {
    const user = username !== undefined ? this.byUsername.get(username) : this.byEmail.get(normalizeEmail(email))
    const matches = await verifyPassword(user?.password ?? await this.decoy, password)
    return user && matches ? user : null
  }
}

function publicUser (user) {
  return {
    id: user.id,
    username: user.username,
    isActive: user.isActive,
    email: user.email,
    plan: user.plan
  }
}

module.exports = { UserStore, DuplicateUserError, normalizeEmail, publicUser }
