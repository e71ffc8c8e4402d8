import { Module } from '@nestjs/common';
import { KvModule } from '../kv/kv.module';
import { LeasesController } from './leases.controller';

@Module({ imports: [KvModule], controllers: [LeasesController] })
export class LeasesModule {}
