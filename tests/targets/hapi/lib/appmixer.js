'use strict';
// The Appmixer user API (cloud docs): POST /user/auth, POST /user with its signup rate limits, GET /user.

const Boom = require('@hapi/boom');
const Joi = require('joi');
const Jwt = require('jsonwebtoken');

const { exceeded, tooManyRequests } = require('./limits');
const { clientAddress } = require('./client-address');
const { normalizeEmail, publicUser } = require('./users');

const EMAIL_LIMIT_MESSAGE = 'Too many signup attempts for this email address. Please try again later.';
const IP_LIMIT_MESSAGE = 'Too many signup attempts from your IP address. Please try again later.';

const signinSchema = Joi.object({
    username: Joi.string().max(256),
    email: Joi.string().max(256),
    password: Joi.string().max(1024).required()
}).or('username', 'email');

const signupSchema = Joi.object({
    username: Joi.string().max(256).required(),
    email: Joi.string().trim().max(254).email().required(),
    password: Joi.string().max(1024).required()
});

function routes({ config, users, limiters, secret }) {

    const sign = (user) => Jwt.sign({ id: user.id, scope: user.scope }, secret, {
        algorithm: 'HS256',
        expiresIn: config.tokenLifetimeS
    });

    /** The user a bearer token names; `null` without an Authorization header; 401 for any other token. */
    const bearerUser = (request) => {

        const header = (request.headers.authorization ?? '').trim();
        if (!header) {
            return null;
        }

        const [kind, token] = header.split(/\s+/);
        if (kind.toLowerCase() !== 'bearer' || !token) {
            throw Boom.unauthorized('Bearer token required');
        }

        let claims;
        try {
            claims = Jwt.verify(token, secret, { algorithms: ['HS256'] });
        }
        catch {
            throw Boom.unauthorized('Invalid token');
        }

        const user = users.findById(claims.id);
        if (!user) {
            throw Boom.unauthorized('Invalid token');
        }

        return user;
    };

    /** Refuses an anonymous signup over either limit; both limits count every validated attempt. */
    const applySignupLimits = async (request, email) => {

        const ip = clientAddress(request, config.trustForwardedFor);
        const overIp = await exceeded(limiters.signupIp, ip);
        if (overIp) {
            throw tooManyRequests(IP_LIMIT_MESSAGE, overIp);
        }

        const emailKey = config.fault === 'email-as-sent' ? request.orig.payload.email : normalizeEmail(email);
        const overEmail = await exceeded(limiters.signupEmail, emailKey);
        if (overEmail) {
            throw tooManyRequests(EMAIL_LIMIT_MESSAGE, overEmail);
        }
    };

    return [
        {
            method: 'POST',
            path: '/user/auth',
            options: { validate: { payload: signinSchema } },
            handler: async (request) => {

                const user = await users.authenticate(request.payload);
                if (!user) {
                    throw Boom.unauthorized('Invalid username or password');
                }

                return { user: publicUser(user), token: sign(user) };
            }
        },
        {
            method: 'POST',
            path: '/user',
            options: { validate: { payload: signupSchema } },
            handler: async (request) => {

                const caller = bearerUser(request);
                const createScope = config.signup.createScope;
                if (createScope) {
                    if (!caller) {
                        throw Boom.unauthorized('Creating users requires a token');
                    }

                    if (!caller.scope.includes(createScope)) {
                        throw Boom.forbidden('Insufficient scope');
                    }
                }

                if (!caller?.scope.includes('admin')) {
                    await applySignupLimits(request, request.payload.email);
                }

                const user = users.exists(request.payload) ? null : await users.create(request.payload);
                if (!user) {
                    throw Boom.conflict('A user with this username or email already exists');
                }

                return { user: publicUser(user), token: sign(user) };
            }
        },
        {
            method: 'GET',
            path: '/user',
            handler: (request) => {

                const user = bearerUser(request);
                if (!user) {
                    throw Boom.unauthorized('Missing authentication');
                }

                return { ...publicUser(user), scope: user.scope };
            }
        }
    ];
}

module.exports = { routes, EMAIL_LIMIT_MESSAGE, IP_LIMIT_MESSAGE };
