import { Controller, Get, Inject } from '@nestjs/common';
import { LeadershipService } from './leadership.service';
import { LiveConfigService } from './live-config.service';
import { EXAMPLE_OPTIONS, type ExampleOptions } from './options';

@Controller()
export class StatusController {
  constructor(
    private readonly leadership: LeadershipService,
    private readonly config: LiveConfigService,
    @Inject(EXAMPLE_OPTIONS) private readonly options: ExampleOptions,
  ) {}

  /** Who this instance is, whether it leads, and the configuration it runs with. */
  @Get('status')
  status() {
    return {
      instance: this.options.instance,
      leader: this.leadership.isLeader,
      fencingToken: this.leadership.fencingToken,
      config: this.config.snapshot(),
      configRevision: this.config.revision,
    };
  }
}
