import { Module } from '@nestjs/common';
import { ConsensusModule } from '../consensus/consensus.module';
import { KvModule } from '../kv/kv.module';
import { ChangeFeed } from './change-feed';
import { CompactController } from './compact.controller';
import { HistoryRetention } from './retention';
import { WatchController } from './watch.controller';

/** The replicated history: watching it, compacting it (reads in the past are the KV routes'). */
@Module({ imports: [ConsensusModule, KvModule], controllers: [WatchController, CompactController], providers: [ChangeFeed, HistoryRetention] })
export class HistoryModule {}
