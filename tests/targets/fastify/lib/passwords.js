'use strict'
// Owns stored passwords: scrypt with a random salt, the cost kept with the hash so each is checked with the
// cost it was made with.

const { randomBytes, scrypt, timingSafeEqual } = require('node:crypto')

const KEY_LENGTH = 32
const BLOCK_SIZE = 8

function derive (password, salt, cost) {
  return new Promise((resolve, reject) => {
    // scrypt needs about 128 * N * r bytes; the default 32 MiB cap would refuse the larger allowed costs.
    const maxmem = 256 * cost * BLOCK_SIZE
    scrypt(password, salt, KEY_LENGTH, { N: cost, r: BLOCK_SIZE, p: 1, maxmem }, (err, key) => {
      if (err) reject(err)
      else resolve(key)
    })
  })
}

async function hashPassword (password, cost) {
  const salt = randomBytes(16)
  return { salt, cost, hash: await derive(password, salt, cost) }
}

async function verifyPassword (stored, password) {
  const hash = await derive(password, stored.salt, stored.cost)
  return timingSafeEqual(hash, stored.hash)
}

module.exports = { hashPassword, verifyPassword }
