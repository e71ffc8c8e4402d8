import { Global, Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module';
import { ConsensusModule } from '../consensus/consensus.module';
import { GatewayCollectors } from './gateway-collectors';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { createRegistry, METRICS_REGISTRY } from './registry';
import { ReplicaSeries } from './replica-series';

@Global()
@Module({
  imports: [ClusterModule, ConsensusModule],
  controllers: [MetricsController],
  providers: [{ provide: METRICS_REGISTRY, useFactory: createRegistry }, HttpMetrics, ReplicaSeries, GatewayCollectors],
  exports: [METRICS_REGISTRY, HttpMetrics],
})
export class MetricsModule {}
