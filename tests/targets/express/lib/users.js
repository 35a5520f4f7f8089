'use strict'
// Owns the Appmixer accounts, in memory: unique usernames (as stored) and unique e-mail addresses (trimmed and
// lower-cased, one mailbox however it is written), sign-in by either, the public view of a user.

const { randomBytes } = require('node:crypto')
const { hashPassword, verifyPassword } = require('./passwords')

const normalizeEmail = (email) => email.trim().toLowerCase()

class DuplicateUser extends Error {
  constructor (field) {
    super(`a user with this ${field} already exists`)
    this.field = field
  }
}

class Users {
  constructor ({ scryptCost }) {
    this.scryptCost = scryptCost
    this.byId = new Map()
    this.byUsername = new Map()
    this.byEmail = new Map()
    // Checked in place of a missing user, so an unknown name takes as long as a wrong password.
    this.decoyHash = hashPassword(randomBytes(16).toString('hex'), scryptCost)
  }

  taken ({ username, email }) {
    if (this.byUsername.has(username)) return 'username'
    if (this.byEmail.has(normalizeEmail(email))) return 'email'
    return null
  }

  async create ({ username, email, password, scope = ['user'] }) {
    if (this.taken({ username, email })) throw new DuplicateUser(this.taken({ username, email }))
    const passwordHash = await hashPassword(password, this.scryptCost)
    // Again: the same signup may have been hashing at the same time.
    if (this.taken({ username, email })) throw new DuplicateUser(this.taken({ username, email }))

    const user = {
      id: randomBytes(12).toString('hex'),
      username,
      email: email.trim(),
      isActive: false,
      plan: 'free',
      scope,
      passwordHash
    }
    this.byId.set(user.id, user)
    this.byUsername.set(user.username, user)
    this.byEmail.set(normalizeEmail(user.email), user)
    return user
  }

  get (id) {
    return this.byId.get(id) ?? null
  }

  /** The user named by username (or, without one, by e-mail) when the password matches, else null. */
  async signIn ({ username, email, password }) {
    const user = username !== undefined ? this.byUsername.get(username) : this.byEmail.get(normalizeEmail(email))
    const matches = await verifyPassword(user?.passwordHash ?? await this.decoyHash, password)
    return user && matches ? user : null
  }
}

const publicUser = ({ id, username, isActive, email, plan }) => ({ id, username, isActive, email, plan })

module.exports = { Users, DuplicateUser, normalizeEmail, publicUser }
