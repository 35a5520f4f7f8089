'use strict';
// An Appmixer (cloud) and Creditsafe Connect authentication server on hapi, written from their public
// documents; its settings come from the environment (README.md lists them).

const Boom = require('@hapi/boom');
const Crypto = require('crypto');
const Hapi = require('@hapi/hapi');

const Config = require('./lib/config');
const Limits = require('./lib/limits');
const Appmixer = require('./lib/appmixer');
const Creditsafe = require('./lib/creditsafe');
const { UserStore } = require('./lib/users');

async function createServer(config) {

    const server = Hapi.server({
        host: config.host,
        port: config.port,
        routes: {
            payload: { allow: 'application/json', maxBytes: 64 * 1024 },
            validate: {
                // Say which field is wrong (joi's message names the field, never its value).
                failAction: (request, h, err) => {

                    throw Boom.badRequest(err.message);
                }
            }
        }
    });

    const users = new UserStore(config.scryptCost);
    if (config.admin) {
        await users.create({ ...config.admin, scope: ['user', 'admin'] });
    }

    const limiters = Limits.build(config);
    const secret = config.jwtSecret ?? Crypto.randomBytes(32).toString('hex');
    server.route(Appmixer.routes({ config, users, limiters, secret }));
    server.route(await Creditsafe.routes({ config, limiters }));
    if (config.logRequests) {
        server.events.on('response', (request) => {

            const status = request.response?.statusCode ?? '-';
            console.log(`${new Date().toISOString()} ${request.info.remoteAddress} ${request.method.toUpperCase()} ${request.path} ${status}`);
        });
    }

    return server;
}

async function main() {

    let config;
    try {
        config = Config.load();
    }
    catch (err) {
        console.error(`error: ${err.message}`);
        process.exit(2);
    }

    const server = await createServer(config);
    await server.start();
    console.log(`listening on ${server.info.uri}${config.fault ? ` (fault: ${config.fault})` : ''}`);

    for (const signal of ['SIGINT', 'SIGTERM']) {
        process.once(signal, async () => {

            await server.stop({ timeout: 1000 });
            process.exit(0);
        });
    }
}

if (require.main === module) {
    main().catch((err) => {

        console.error(`error: ${err.stack ?? err}`);
        process.exit(1);
    });
}

module.exports = { createServer };
