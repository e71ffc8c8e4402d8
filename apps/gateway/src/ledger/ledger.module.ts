import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module';
import { ControlPlane } from '../admin/control-plane';
import { LedgerController } from './ledger.controller';
import { LedgerService } from './ledger.service';

/**
 * GET /v1/ledger/blocks and /v1/ledger/verify. Replicas are asked through the control plane's sealed
 * transport (a ControlPlane of this module's own: the admin module does not export its one).
 */
@Module({ imports: [ClusterModule], controllers: [LedgerController], providers: [LedgerService, ControlPlane] })
export class LedgerModule {}
