import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import type { DestinationStream, LevelWithSilent } from 'pino';
import { createLogger, logLevel } from '@app/logging';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/config';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { jsonBody } from './http/json-body.middleware';
import { installLeanRoute } from './http/lean-routes';
import { loopbackHostAdmits, loopbackHostsOnly, sameOriginWrites } from './http/same-origin.middleware';
import { ProblemValidationPipe } from './http/validation';
import { KvController } from './kv/kv.controller';
import { kvFastPath, type KvFastPathOptions } from './kv/kv.fast-path';
import { httpLogger } from './logging/http-logger';
import { HttpMetrics } from './metrics/http-metrics';

export interface GatewayAppOptions {
  /** false: no log lines at all (tests). */
  logger?: false;
  /** Default: LOG_LEVEL, else info. */
  logLevel?: LevelWithSilent;
  /** Where log lines go; default stdout (tests read them). */
  logDestination?: DestinationStream;
  /** false: every request through Express and Nest, the lean KV routes off (tests compare the two). */
  leanRoutes?: boolean;
}

/**
 * The gateway as a Nest app, initialised (bus connected, routes mounted) but not listening:
 * main.ts listens on PORT, tests on port 0. Rejects when the bus Redis cannot be reached.
 */
export async function createGatewayApp(config: GatewayConfig, opts: GatewayAppOptions = {}): Promise<INestApplication> {
  // One pino logger for the process: JSON lines (see @app/logging), Nest's own logs included.
  const log = createLogger({
    service: 'gateway',
    level: opts.logger === false ? 'silent' : (opts.logLevel ?? logLevel()),
    destination: opts.logDestination,
  });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, log), {
    bodyParser: false,
    abortOnError: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoNestLogger));
  app.disable('x-powered-by');
  // Express would hash every JSON answer for an ETag no client of this API uses.
  app.set('etag', false);
  // Before any route: the request id and log line, metrics (they see every answer), CORS (only
  // for the origins configured: none by default, so no Access-Control-* header at all), the refusal
  // of cross-origin writes, then the body parser (application/json only) with our limit.
  const requestLog = httpLogger(log);
  const metrics = app.get(HttpMetrics);
  app.use(requestLog);
  app.use(metrics.middleware);
  // An open API (no ADMIN_TOKEN, loopback only) answers only to loopback Host names: DNS rebinding.
  if (config.adminToken === null) app.use(loopbackHostsOnly(config.host));
  if (config.corsOrigins.length > 0) app.enableCors({ origin: config.corsOrigins });
  app.use(sameOriginWrites(config.corsOrigins));
  app.use(jsonBody(config.bodyLimitBytes, config.bodyLimit));
  app.useGlobalFilters(new ApiExceptionFilter(config.bodyLimit));
  app.useGlobalPipes(new ProblemValidationPipe());

  const doc = new DocumentBuilder()
    .setTitle('Synod gateway')
    .setDescription(
      `Key-value store replicated by ${config.protocol.toUpperCase()} over Redis. Writes go to the leader/primary; ` +
        'send an Idempotency-Key to retry safely (503: nothing applied, retry later; 504: outcome unknown, retry with the same key).',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  // Mounted before init(): routes added after it would sit behind Nest's 404 handler.
  SwaggerModule.setup('docs', app, () => cleanupOpenApiDoc(SwaggerModule.createDocument(app, doc)));

  await app.init();
  if (opts.leanRoutes !== false)
    installLeanRoute(app.getHttpServer(), kvFastPath(leanKvOptions(app, config, [requestLog, metrics.middleware], metrics.leanServed)));
  return app;
}

/**
 * The lean KV routes meet the same request log and metrics, and take only requests that Express's
 * guards would pass unanswered: no Origin (cross-site rules and CORS answers stay in Express) and,
 * for an open API, a loopback Host. With CORS on, `cors` marks every answer `Vary: Origin`; so do they.
 */
function leanKvOptions(
  app: INestApplication,
  config: GatewayConfig,
  before: KvFastPathOptions['before'],
  served: KvFastPathOptions['served'],
): KvFastPathOptions {
  const hostAdmits = config.adminToken === null ? loopbackHostAdmits(config.host) : () => true;
  const vary: KvFastPathOptions['before'] = config.corsOrigins.length > 0 ? [(_req, res, next) => (res.setHeader('Vary', 'Origin'), next())] : [];
  return {
    controller: app.get(KvController),
    before: [...before, ...vary],
    admits: (req) => req.headers.origin === undefined && hostAdmits(req.headers.host),
    bodyLimitBytes: config.bodyLimitBytes,
    bodyLimit: config.bodyLimit,
    served,
  };
}
