// The process: settings from the environment (config.ts; a wrong value exits 2 before Nest starts), the Nest
// application on Express, the "listening on" line (the first line on stdout, once the socket accepts
// requests; PORT=0 picks a free port, a broken variant adds " (fault: NAME)"), shutdown on SIGINT/SIGTERM.

import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';

import { AppModule } from './app.module';
import { bodyParserErrors, MAX_BODY } from './common/json-body';
import { StderrLogger } from './common/stderr-logger';
import { AppConfig, ConfigError, loadConfig } from './config';

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(2);
  }

  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    logger: new StderrLogger({ logLevels: ['error', 'warn'] }),
  });
  app.disable('x-powered-by');
  // Express trusts no proxy unless one sits in front (TRUST_FORWARDED_FOR=1), then exactly one hop: req.ip is
  // the address that proxy appended to X-Forwarded-For.
  app.set('trust proxy', config.trustForwardedFor ? 1 : false);
  app.useBodyParser('json', { limit: MAX_BODY });
  // parse-error-echo: Nest's own answer to malformed JSON, the parser's message, which quotes the body.
  if (config.fault !== 'parse-error-echo') app.use(bodyParserErrors);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      transform: true,
      forbidUnknownValues: true,
      // One message per field: the first rule it breaks.
      stopAtFirstError: true,
      validationError: { target: false, value: false },
    }),
  );
  app.enableShutdownHooks();

  await app.listen(config.port, config.host);
  const server: Server = app.getHttpServer();
  // Longer than clients keep idle pooled connections, so none is closed under a request being sent.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 76_000;
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stdout.write(`listening on http://${host}:${port}${config.fault ? ` (fault: ${config.fault})` : ''}\n`);
}

bootstrap().catch((err) => {
  process.stderr.write(`error: ${err?.stack ?? err}\n`);
  process.exit(1);
});
