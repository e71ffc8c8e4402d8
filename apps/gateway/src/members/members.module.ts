import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { ClusterModule } from '../cluster/cluster.module';
import { MembersAdminController, MembersController } from './members.controller';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { Members } from './members';
import { PbftMembers } from './pbft-members';
import { RaftMembers } from './raft-members';

/** Members is the protocol's own: Raft's single-server changes or PBFT's reconfiguration. */
@Module({
  imports: [AdminModule, ClusterModule],
  controllers: [MembersController, MembersAdminController],
  providers: [
    RaftMembers,
    PbftMembers,
    {
      provide: Members,
      inject: [GATEWAY_CONFIG, RaftMembers, PbftMembers],
      useFactory: (config: GatewayConfig, raft: RaftMembers, pbft: PbftMembers): Members => (config.protocol === 'pbft' ? pbft : raft),
    },
  ],
})
export class MembersModule {}
