import { Module } from '@nestjs/common';
import { ConsensusModule } from '../consensus/consensus.module';
import { KvModule } from '../kv/kv.module';
import { TopicsController } from './topics.controller';
import { TopicsService } from './topics.service';

/** Topics and consumer groups over REST (issue 14): the message bus's gateway side. */
@Module({ imports: [ConsensusModule, KvModule], controllers: [TopicsController], providers: [TopicsService] })
export class TopicsModule {}
