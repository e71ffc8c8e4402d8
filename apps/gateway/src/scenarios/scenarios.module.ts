import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { ClusterModule } from '../cluster/cluster.module';
import { LAB_SCENARIOS } from '../lab/lab.service';
import { ScenariosController } from './scenarios.controller';
import { ScenariosService } from './scenarios.service';
import { ScenariosWorker } from './scenarios.worker';

/** The fault lab's scenario runner (issue 15). The lab finds its catalogue under LAB_SCENARIOS. */
@Module({
  imports: [AdminModule, ClusterModule],
  controllers: [ScenariosController],
  providers: [ScenariosService, ScenariosWorker, { provide: LAB_SCENARIOS, useExisting: ScenariosService }],
  exports: [ScenariosService, LAB_SCENARIOS],
})
export class ScenariosModule {}
