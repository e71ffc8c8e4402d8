import { DynamicModule, Module } from '@nestjs/common';
import { SynodModule } from '@app/client';
import { LeadershipService } from './leadership.service';
import { LiveConfigService } from './live-config.service';
import { EXAMPLE_OPTIONS, type ExampleOptions } from './options';
import { StatusController } from './status.controller';

@Module({})
export class AppModule {
  static register(endpoints: string[], options: ExampleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [SynodModule.forRoot({ endpoints })],
      controllers: [StatusController],
      providers: [{ provide: EXAMPLE_OPTIONS, useValue: options }, LeadershipService, LiveConfigService],
    };
  }
}
