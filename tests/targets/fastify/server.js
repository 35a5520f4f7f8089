'use strict'
// An Appmixer (cloud) and Creditsafe Connect authentication server on Fastify 5, written from their public
// documents. This file owns the app's assembly (buildApp, no socket, so it can be inject()ed) and the process:
// settings from the environment (README.md lists them), the "listening on" line, shutdown on a signal.

const { randomBytes } = require('node:crypto')
const Fastify = require('fastify')
const rateLimit = require('@fastify/rate-limit')

const Config = require('./lib/config')
const { appmixer } = require('./lib/appmixer')
const { creditsafe } = require('./lib/creditsafe')
const { errorHandler, notFoundHandler } = require('./lib/errors')
const { registerJsonBody } = require('./lib/json-body')
const { UserStore } = require('./lib/users')

async function buildApp (config) {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // Limits decide whom to trust themselves (lib/client-address.js); trust-proxy is the variant that lets
    // Fastify trust every X-Forwarded-For hop, which request.ip then reports.
    trustProxy: config.fault === 'trust-proxy',
    // A number is not a string here, and an unknown field is an error rather than silently dropped: wrong
    // types and unexpected fields are a 400 (Fastify's Ajv defaults would coerce and strip them).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } }
  })

  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  registerJsonBody(app, config)

  // In-memory store as the plugin ships it; limits are per route (config.rateLimit) or createRateLimit().
  await app.register(rateLimit, { global: false })

  const users = new UserStore({ scryptCost: config.scryptCost })
  if (config.admin) {
    await users.create({ ...config.admin, scope: ['user', 'admin'] })
  }

  const appConfig = { ...config, jwtSecret: config.jwtSecret ?? randomBytes(32).toString('hex') }
  await app.register(appmixer, { config: appConfig, users })
  await app.register(creditsafe, { config: appConfig })

  if (config.logRequests) {
    app.addHook('onResponse', (request, reply, done) => {
      console.log(`${new Date().toISOString()} ${request.socket.remoteAddress} ${request.method} ${request.url} ${reply.statusCode}`)
      done()
    })
  }

  return app
}

async function main () {
  let config
  try {
    config = Config.load()
  } catch (err) {
    if (!(err instanceof Config.ConfigError)) throw err
    console.error(`error: ${err.message}`)
    process.exit(2)
  }

  const app = await buildApp(config)
  const address = await app.listen({ host: config.host, port: config.port })
  console.log(`listening on ${address}${config.fault ? ` (fault: ${config.fault})` : ''}`)

  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      app.close().then(() => process.exit(0), () => process.exit(1))
    })
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`error: ${err.stack ?? err}`)
    process.exit(1)
  })
}

module.exports = { buildApp }
