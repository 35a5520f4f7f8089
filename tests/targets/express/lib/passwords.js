'use strict'
// Owns password hashing: node's crypto.scrypt with a random salt, stored as "scrypt$N$salt$hash" so every hash
// is checked with the cost it was made with, and compared in constant time.

const { randomBytes, scrypt, timingSafeEqual } = require('node:crypto')
const { promisify } = require('node:util')

const scryptAsync = promisify(scrypt)
const KEY_BYTES = 32
const R = 8

function derive (password, salt, cost) {
  // scrypt needs about 128 * N * r bytes; node's default 32 MiB cap would refuse the larger costs.
  return scryptAsync(password, salt, KEY_BYTES, { N: cost, r: R, p: 1, maxmem: 256 * cost * R })
}

async function hashPassword (password, cost) {
  const salt = randomBytes(16)
  const hash = await derive(password, salt, cost)
  return `scrypt$${cost}$${salt.toString('base64')}$${hash.toString('base64')}`
}

async function verifyPassword (stored, password) {
  const [, cost, salt, hash] = stored.split('$')
  const expected = Buffer.from(hash, 'base64')
  const actual = await derive(password, Buffer.from(salt, 'base64'), Number(cost))
  return timingSafeEqual(actual, expected)
}

module.exports = { hashPassword, verifyPassword }
