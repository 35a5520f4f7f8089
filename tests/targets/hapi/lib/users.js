'use strict';
// Appmixer users kept in memory: passwords hashed (passwords.js), e-mail addresses compared trimmed and
// lower-cased (one mailbox however it is written), usernames compared exactly as stored.

const Crypto = require('crypto');
const { hashPassword, passwordMatches } = require('./passwords');

function normalizeEmail(email) {

    return email.trim().toLowerCase();
}

class UserStore {

    constructor(scryptCost) {

        this.scryptCost = scryptCost;

        this.byId = new Map();
        this.byUsername = new Map();
        this.byEmail = new Map();
    }

    exists({ username, email }) {

        return this.byUsername.has(username) || this.byEmail.has(normalizeEmail(email));
    }

    async create({ username, email, password, scope = ['user'] }) {

        const user = {
            id: Crypto.randomBytes(12).toString('hex'),
            username,
            email: email.trim(),
            isActive: false,
            plan: 'free',
            scope,
            password: await hashPassword(password, this.scryptCost)
        };
        // Checked again after the hash: two identical signups may have been hashing at once.
        if (this.exists(user)) {
            return null;
        }

        this.byId.set(user.id, user);
        this.byUsername.set(user.username, user);
        this.byEmail.set(normalizeEmail(user.email), user);
        return user;
    }

    findById(id) {

        return this.byId.get(id) ?? null;
    }

    /** The user named by `username` if given, else by `email`, when the password matches. */
    async authenticate({ username, email, password }) {

        const user = username !== undefined ? this.byUsername.get(username) : this.byEmail.get(normalizeEmail(email));
        if (!user || !(await passwordMatches(user.password, password))) {
            return null;
        }

        return user;
    }
}

function publicUser(user) {

    return {
        id: user.id,
        username: user.username,
        isActive: user.isActive,
        email: user.email,
        plan: user.plan
    };
}

module.exports = { UserStore, normalizeEmail, publicUser };
