import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { ClusterModule } from '../cluster/cluster.module';
import { LedgerController } from './ledger.controller';
import { LedgerService } from './ledger.service';

/** GET /v1/ledger/blocks and /v1/ledger/verify. Replicas are asked through the admin module's control plane (sealed transport). */
@Module({ imports: [AdminModule, ClusterModule], controllers: [LedgerController], providers: [LedgerService] })
export class LedgerModule {}
