import { Module } from '@nestjs/common';
import { ConsensusModule } from '../consensus/consensus.module';
import { KvController } from './kv.controller';
import { KvService } from './kv.service';

@Module({ imports: [ConsensusModule], controllers: [KvController], providers: [KvService], exports: [KvService] })
export class KvModule {}
