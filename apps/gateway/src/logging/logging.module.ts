import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';

/**
 * nestjs-pino on the gateway's one pino logger: Nest's own logs and every `new Logger(context)` go
 * to it as JSON. The request middleware (http-logger.ts) is installed by createGatewayApp before the
 * body parser, so that a request refused there is logged too; nestjs-pino only binds each
 * request's logger for the handlers (`useExisting`).
 */
@Module({})
export class LoggingModule {
  static forRoot(root: Logger): DynamicModule {
    return { module: LoggingModule, imports: [LoggerModule.forRoot({ pinoHttp: { logger: root }, useExisting: true })] };
  }
}
