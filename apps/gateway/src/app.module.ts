import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { AdminModule } from './admin/admin.module';
import { BusModule } from './bus/bus.module';
import { ClusterModule } from './cluster/cluster.module';
import { CommandsModule } from './commands/commands.module';
import type { GatewayConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { LabModule } from './lab/lab.module';
import { HealthModule } from './health/health.module';
import { HistoryModule } from './history/history.module';
import { KvModule } from './kv/kv.module';
import { LeasesModule } from './leases/leases.module';
import { LedgerModule } from './ledger/ledger.module';
import { LoggingModule } from './logging/logging.module';
import { MembersModule } from './members/members.module';
import { MetricsModule } from './metrics/metrics.module';
import { ScenariosModule } from './scenarios/scenarios.module';
import { TopicsModule } from './topics/topics.module';
import { TxnModule } from './txn/txn.module';

@Module({})
export class AppModule {
  static register(config: GatewayConfig, log: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        LoggingModule.forRoot(log),
        BusModule,
        MetricsModule,
        ClusterModule,
        KvModule,
        TxnModule,
        HistoryModule,
        LeasesModule,
        TopicsModule,
        LedgerModule,
        MembersModule,
        AdminModule,
        CommandsModule,
        ScenariosModule,
        HealthModule,
        LabModule,
      ],
    };
  }
}
