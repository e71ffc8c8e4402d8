import { Global, Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module';
import { LabController } from './lab.controller';
import { LabEvents } from './lab-events';
import { LabService } from './lab.service';
import { LabState } from './lab-state';
import { SharedTimeline } from './shared-timeline';

/**
 * The fault lab (issue 15): the page at `/`, its event stream, and the timeline every part of the
 * gateway records into (global: admin actions and scenario runs write to it through SharedTimeline).
 */
@Global()
@Module({
  imports: [ClusterModule],
  controllers: [LabController],
  providers: [{ provide: LabEvents, useFactory: () => new LabEvents() }, LabState, LabService, SharedTimeline],
  exports: [LabEvents, LabService, SharedTimeline],
})
export class LabModule {}
