import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import type { NodeConfig } from './config/node-config';
import { HealthController } from './health/health.controller';
import { ReplicaService } from './replica/replica.service';

@Module({})
export class NodeAppModule {
  static forRoot(cfg: NodeConfig): DynamicModule {
    return {
      module: NodeAppModule,
      imports: [ConfigModule.forRoot(cfg)],
      controllers: [HealthController],
      providers: [ReplicaService],
    };
  }
}
