'use strict';
// The server's settings, read once from the environment and validated with joi: a wrong value stops the
// server at start with the variable named, never a silent default.

const Joi = require('joi');

const FAULTS = ['email-as-sent', 'lockout-trusts-forwarded-for'];

const positive = Joi.number().integer().min(1);

const schema = Joi.object({
    HOST: Joi.string().default('127.0.0.1'),
    PORT: Joi.number().integer().min(0).max(65535).default(8080),

    // Appmixer signup rate limits, as documented (names and defaults from the Appmixer docs).
    USER_SIGNUP_RATE_LIMIT_EMAIL: positive.default(10),
    USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS: positive.default(3600000),
    USER_SIGNUP_RATE_LIMIT_IP: positive.default(50),
    USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS: positive.default(3600000),
    API_USER_CREATE_SCOPE: Joi.string().empty(''),

    // Creditsafe Connect /authenticate limits (documented: 5 identical invalid per 2 minutes; 10,000 per 5 minutes).
    CREDITSAFE_INVALID_LIMIT: positive.default(5),
    CREDITSAFE_INVALID_WINDOW_MS: positive.default(120000),
    CREDITSAFE_LOCKOUT_THRESHOLD: positive.default(10000),
    CREDITSAFE_LOCKOUT_WINDOW_MS: positive.default(300000),

    // Seeded accounts: an Appmixer admin and a Creditsafe Connect user (both optional).
    ADMIN_USERNAME: Joi.string(),
    ADMIN_EMAIL: Joi.string(),
    ADMIN_PASSWORD: Joi.string(),
    CREDITSAFE_USERNAME: Joi.string(),
    CREDITSAFE_PASSWORD: Joi.string(),

    // Tokens: the Appmixer signing secret (random when unset) and the lifetimes in seconds.
    APPMIXER_JWT_SECRET: Joi.string().min(16),
    APPMIXER_TOKEN_LIFETIME_S: positive.default(30 * 24 * 3600),
    CREDITSAFE_TOKEN_LIFETIME_S: positive.default(3600),

    // scrypt's CPU/memory cost for stored passwords (a power of two; lower it only for test environments).
    PASSWORD_SCRYPT_COST: Joi.number().integer().min(2).max(1 << 20)
        .custom((value, helpers) => {

            return (value & (value - 1)) === 0 ? value : helpers.message({ custom: '{{#label}} must be a power of two' });
        })
        .default(16384),

    // Only behind a proxy that sets X-Forwarded-For may the client address be taken from it.
    TRUST_FORWARDED_FOR: Joi.boolean().truthy('1').falsy('0', '').default(false),

    // One line per answered request on stdout.
    LOG_REQUESTS: Joi.boolean().truthy('1').falsy('0', '').default(false),

    // A deliberately broken variant, for testing the conformance suite.
    HAPI_TARGET_FAULT: Joi.string().valid(...FAULTS).empty('')
})
    .and('ADMIN_USERNAME', 'ADMIN_PASSWORD')
    .and('CREDITSAFE_USERNAME', 'CREDITSAFE_PASSWORD')
    .unknown(true);

function load(env = process.env) {

    const { value, error } = schema.validate(env, { abortEarly: false });
    if (error) {
        throw new Error(`invalid configuration: ${error.details.map((d) => d.message).join('; ')}`);
    }

    return {
        host: value.HOST,
        port: value.PORT,
        signup: {
            emailLimit: value.USER_SIGNUP_RATE_LIMIT_EMAIL,
            emailWindowMs: value.USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS,
            ipLimit: value.USER_SIGNUP_RATE_LIMIT_IP,
            ipWindowMs: value.USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS,
            createScope: value.API_USER_CREATE_SCOPE ?? null
        },
        creditsafe: {
            invalidLimit: value.CREDITSAFE_INVALID_LIMIT,
            invalidWindowMs: value.CREDITSAFE_INVALID_WINDOW_MS,
            lockoutThreshold: value.CREDITSAFE_LOCKOUT_THRESHOLD,
            lockoutWindowMs: value.CREDITSAFE_LOCKOUT_WINDOW_MS,
            tokenLifetimeS: value.CREDITSAFE_TOKEN_LIFETIME_S,
            account: value.CREDITSAFE_USERNAME
                ? { username: value.CREDITSAFE_USERNAME, password: value.CREDITSAFE_PASSWORD }
                : null
        },
        admin: value.ADMIN_USERNAME
            ? {
                username: value.ADMIN_USERNAME,
                email: value.ADMIN_EMAIL || value.ADMIN_USERNAME,
                password: value.ADMIN_PASSWORD
            }
            : null,
        jwtSecret: value.APPMIXER_JWT_SECRET || null,
        tokenLifetimeS: value.APPMIXER_TOKEN_LIFETIME_S,
        scryptCost: value.PASSWORD_SCRYPT_COST,
        trustForwardedFor: value.TRUST_FORWARDED_FOR,
        logRequests: value.LOG_REQUESTS,
        fault: value.HAPI_TARGET_FAULT ?? null
    };
}

module.exports = { load, FAULTS };
