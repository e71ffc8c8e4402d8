import { Global, Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module';
import { ConsensusModule } from '../consensus/consensus.module';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';

@Global()
@Module({ imports: [ClusterModule, ConsensusModule], controllers: [MetricsController], providers: [HttpMetrics], exports: [HttpMetrics] })
export class MetricsModule {}
