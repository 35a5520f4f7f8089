'use strict';
// Creditsafe Connect POST /authenticate: RS256 tokens, the identical-invalid-request limit and the overall
// request threshold with its lockout.

const Boom = require('@hapi/boom');
const Crypto = require('crypto');
const Joi = require('joi');
const Jwt = require('jsonwebtoken');

const { exceeded, tooManyRequests } = require('./limits');
const { clientAddress, lastForwarded } = require('./client-address');
const { hashPassword, passwordMatches } = require('./passwords');

// The body is optional: a missing body or missing fields are invalid credentials (401), wrong types are 400.
const authenticateSchema = Joi.object({
    username: Joi.string().max(256),
    password: Joi.string().max(1024)
}).allow(null);

/** The same JSON whatever its key order or whitespace, so identical requests share one key. */
function canonical(value) {

    if (Array.isArray(value)) {
        return `[${value.map(canonical).join(',')}]`;
    }

    if (value !== null && typeof value === 'object') {
        return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
    }

    return JSON.stringify(value ?? null);
}

function signingKey() {

    const { privateKey, publicKey } = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const kid = Crypto.createHash('sha1').update(der).digest('base64url');
    return { privateKey, kid };
}

async function routes({ config, limiters }) {

    const settings = config.creditsafe;
    const key = signingKey();
    const account = settings.account
        ? { username: settings.account.username, password: await hashPassword(settings.account.password, config.scryptCost) }
        : null;

    const lockoutKey = (request) => {

        if (config.fault === 'lockout-trusts-forwarded-for') {
            return lastForwarded(request) ?? request.info.remoteAddress;
        }

        return clientAddress(request, config.trustForwardedFor);
    };

    const valid = async (payload) => {

        return Boolean(account && payload?.username === account.username && typeof payload.password === 'string' &&
            await passwordMatches(account.password, payload.password));
    };

    return [{
        method: 'POST',
        path: '/authenticate',
        options: {
            payload: { allow: 'application/json', maxBytes: 64 * 1024 },
            validate: { payload: authenticateSchema },
            ext: {
                // Before the body is read, so every request counts toward the threshold, refused ones included.
                onPreAuth: {
                    method: async (request, h) => {

                        const lockedOut = await exceeded(limiters.creditsafeLockout, lockoutKey(request));
                        if (lockedOut) {
                            throw tooManyRequests('Too many requests to the authenticate endpoint. Please try again later.', lockedOut);
                        }

                        return h.continue;
                    }
                }
            }
        },
        handler: async (request) => {

            const invalidKey = `${clientAddress(request, config.trustForwardedFor)} ${canonical(request.payload)}`;
            const blocked = await limiters.creditsafeInvalid.get(invalidKey);
            if (blocked && blocked.consumedPoints >= settings.invalidLimit) {
                throw tooManyRequests('Too many identical invalid requests. Please try again later.', blocked);
            }

            if (await valid(request.payload)) {
                const token = Jwt.sign({ username: account.username, scope: ['connect_api'] }, key.privateKey, {
                    algorithm: 'RS256',
                    keyid: key.kid,
                    expiresIn: settings.tokenLifetimeS,
                    notBefore: 0,
                    subject: account.username
                });
                return { token };
            }

            // Counted after the check, so requests that were being checked at the same time cannot slip past.
            const overLimit = await exceeded(limiters.creditsafeInvalid, invalidKey);
            if (overLimit) {
                throw tooManyRequests('Too many identical invalid requests. Please try again later.', overLimit);
            }

            throw Boom.unauthorized('Invalid username or password');
        }
    }];
}

module.exports = { routes };
