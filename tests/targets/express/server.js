'use strict'
// An Appmixer (cloud) and Creditsafe Connect authentication server on Express 5 with express-rate-limit,
// written from their public documents. This file owns the app's assembly (buildApp: middleware, routers, error
// answers; no socket) and the process: settings from the environment (README.md), the "listening on" line
// (the first line on stdout), shutdown on SIGINT/SIGTERM.

const http = require('node:http')
const { randomBytes } = require('node:crypto')
const express = require('express')

const Config = require('./lib/config')
const { appmixerRouter } = require('./lib/appmixer')
const { clientAddressOf } = require('./lib/client-address')
const { creditsafeRouter } = require('./lib/creditsafe')
const { errorHandler, notFound } = require('./lib/errors')
const { Users } = require('./lib/users')

async function buildApp (settings) {
  const config = { ...settings, jwtSecret: settings.jwtSecret ?? randomBytes(32).toString('hex') }
  const app = express()
  app.disable('x-powered-by')
  // Limits decide whom to trust themselves (lib/client-address.js), so Express trusts no proxy; the
  // trust-proxy variant trusts every hop, as `app.set('trust proxy', true)` does.
  app.set('trust proxy', config.fault === 'trust-proxy')

  const users = new Users({ scryptCost: config.scryptCost })
  if (config.admin) await users.create({ ...config.admin, scope: ['user', 'admin'] })

  const clientOf = clientAddressOf(config)
  app.use(appmixerRouter({ config, users, clientOf }))
  app.use(await creditsafeRouter({ config, clientOf }))
  app.use(notFound)
  app.use(errorHandler)
  return app
}

async function main () {
  // A wrong setting stops the server before it listens, every bad variable named (exit 2).
  const config = await Promise.resolve().then(Config.load).catch((err) => {
    if (!(err instanceof Config.ConfigError)) throw err
    process.stderr.write(`error: ${err.message}\n`)
    process.exit(2)
  })

  const server = http.createServer(await buildApp(config))
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, resolve)
  })
  const { port } = server.address()
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  console.log(`listening on http://${host}:${port}${config.fault ? ` (fault: ${config.fault})` : ''}`)

  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      server.close(() => process.exit(0))
      server.closeAllConnections()
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
