'use strict';
// Every rate limit of the server, built on rate-limiter-flexible's in-memory limiter (fixed windows that start
// at a key's first counted request), and the 429 answer they share.

const Boom = require('@hapi/boom');
const { RateLimiterMemory, RateLimiterRes } = require('rate-limiter-flexible');

function build(config) {

    const { signup, creditsafe } = config;
    return {
        signupEmail: new RateLimiterMemory({
            keyPrefix: 'signup-email',
            points: signup.emailLimit,
            duration: signup.emailWindowMs / 1000
        }),
        signupIp: new RateLimiterMemory({
            keyPrefix: 'signup-ip',
            points: signup.ipLimit,
            duration: signup.ipWindowMs / 1000
        }),
        // Identical invalid /authenticate requests: the limit's worth are answered, then the same request is refused.
        creditsafeInvalid: new RateLimiterMemory({
            keyPrefix: 'cs-invalid',
            points: creditsafe.invalidLimit,
            duration: creditsafe.invalidWindowMs / 1000
        }),
        // Every /authenticate request counts, refused ones too; one more than the threshold locks the client
        // out for a full window from that request.
        creditsafeLockout: new RateLimiterMemory({
            keyPrefix: 'cs-lockout',
            points: creditsafe.lockoutThreshold,
            duration: creditsafe.lockoutWindowMs / 1000,
            blockDuration: creditsafe.lockoutWindowMs / 1000
        })
    };
}

/** Counts one request against `key`: `null` when it is within the limit, else the limiter's state. */
async function exceeded(limiter, key) {

    try {
        await limiter.consume(key);
        return null;
    }
    catch (err) {
        if (err instanceof RateLimiterRes) {
            return err;
        }

        throw err;
    }
}

/** A Boom 429 with the message and a Retry-After of the seconds until the key's window ends. */
function tooManyRequests(message, state) {

    const error = Boom.tooManyRequests(message);
    error.output.headers['Retry-After'] = String(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
    return error;
}

module.exports = { build, exceeded, tooManyRequests };
