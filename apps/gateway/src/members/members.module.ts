import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { ClusterModule } from '../cluster/cluster.module';
import { MembersAdminController, MembersController } from './members.controller';
import { MembersService } from './members.service';
import { PbftMembers } from './pbft-members';

@Module({ imports: [AdminModule, ClusterModule], controllers: [MembersController, MembersAdminController], providers: [MembersService, PbftMembers] })
export class MembersModule {}
