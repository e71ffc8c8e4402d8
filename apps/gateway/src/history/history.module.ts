import { Module } from '@nestjs/common';
import { ConsensusModule } from '../consensus/consensus.module';
import { KvModule } from '../kv/kv.module';
import { ChangeFeed } from './change-feed';
import { CompactController } from './compact.controller';
import { WatchController } from './watch.controller';

/** The replicated history: watching it, compacting it (reads in the past are the KV routes'). */
@Module({ imports: [ConsensusModule, KvModule], controllers: [WatchController, CompactController], providers: [ChangeFeed] })
export class HistoryModule {}
