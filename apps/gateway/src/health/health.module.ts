import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module';
import { HealthController } from './health.controller';

@Module({ imports: [ClusterModule], controllers: [HealthController] })
export class HealthModule {}
