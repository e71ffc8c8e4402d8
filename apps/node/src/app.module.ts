import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { ConfigModule } from './config/config.module';
import type { NodeConfig } from './config/node-config';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { ReplicaMetrics } from './metrics/replica-metrics';
import { ReplicaService } from './replica/replica.service';

@Module({})
export class NodeAppModule {
  /** `log`: the process's pino logger (main.ts); Nest's logs and `new Logger(ctx)` go to it as JSON. */
  static forRoot(cfg: NodeConfig, log: Logger): DynamicModule {
    return {
      module: NodeAppModule,
      imports: [ConfigModule.forRoot(cfg), LoggerModule.forRoot({ pinoHttp: { logger: log, autoLogging: false } })],
      // MetricsController first: it owns GET /metrics.
      controllers: [MetricsController, HealthController],
      providers: [ReplicaService, ReplicaMetrics],
    };
  }
}
