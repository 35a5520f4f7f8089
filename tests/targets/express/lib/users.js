'use strict'
// Owns the Appmixer accounts, in memory. A username (compared as stored) or an e-mail address (one mailbox
// however it is written: trimmed and lower-cased) is claimed the moment a signup asks for it, before its
// password is hashed, and given back if the signup fails: two signups racing for one name cannot both win.

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
    this.accounts = new Map()
    // Name (prefixed by its kind) → the account's id, or `pending` while its signup hashes the password.
    this.claims = new Map()
    // An unknown name is checked against this, so it takes as long to refuse as a wrong password.
    this.decoyHash = hashPassword(randomBytes(16).toString('hex'), scryptCost)
  }

  async create ({ username, email, password, scope = ['user'] }) {
    const names = [['username', `u:${username}`], ['email', `e:${normalizeEmail(email)}`]]
    const taken = names.find(([, name]) => this.claims.has(name))
    if (taken) throw new DuplicateUser(taken[0])
    for (const [, name] of names) this.claims.set(name, 'pending')
    let passwordHash
    try {
      passwordHash = await hashPassword(password, this.scryptCost)
    } catch (err) {
      for (const [, name] of names) this.claims.delete(name)
      throw err
    }
    const id = randomBytes(12).toString('hex')
    this.accounts.set(id, {
      id, username, email: email.trim(), isActive: false, plan: 'free', scope, passwordHash
    })
    for (const [, name] of names) this.claims.set(name, id)
    return this.accounts.get(id)
  }

  get (id) {
    return this.accounts.get(id) ?? null
  }

  /** The user named by username (or, without one, by e-mail) when the password matches, else null. */
  async signIn ({ username, email, password }) {
    const name = username !== undefined ? `u:${username}` : `e:${normalizeEmail(email)}`
    const user = this.accounts.get(this.claims.get(name))
    const stored = user ? user.passwordHash : await this.decoyHash
    return (await verifyPassword(stored, password)) && user ? user : null
  }
}

const publicUser = ({ id, username, isActive, email, plan }) => ({ id, username, isActive, email, plan })

module.exports = { Users, DuplicateUser, normalizeEmail, publicUser }
