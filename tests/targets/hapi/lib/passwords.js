'use strict';
// Stored passwords: scrypt with a random salt, the cost kept beside the hash so a stored password is checked
// with the cost it was made with.

const Crypto = require('crypto');
const Util = require('util');

const scrypt = Util.promisify(Crypto.scrypt);

async function hashPassword(password, cost) {

    const salt = Crypto.randomBytes(16);
    const hash = await scrypt(password, salt, 32, { N: cost });
    return { salt, hash, cost };
}

async function passwordMatches(stored, password) {

    const hash = await scrypt(password, stored.salt, 32, { N: stored.cost });
    return Crypto.timingSafeEqual(hash, stored.hash);
}

module.exports = { hashPassword, passwordMatches };
