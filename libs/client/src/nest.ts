import { DynamicModule, Module, type FactoryProvider, type ModuleMetadata } from '@nestjs/common';
import { SynodClient, type SynodClientOptions } from './client';

export interface SynodModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => SynodClientOptions | Promise<SynodClientOptions>;
  inject?: FactoryProvider['inject'];
}

/**
 * SynodClient for a Nest app, by injection: `SynodModule.forRoot({ endpoints })`, or
 * `forRootAsync({ useFactory, inject })` to take the endpoints from configuration. Global, so a
 * module that needs the client only asks for it.
 */
@Module({})
export class SynodModule {
  static forRoot(options: SynodClientOptions): DynamicModule {
    return { module: SynodModule, global: true, providers: [{ provide: SynodClient, useValue: new SynodClient(options) }], exports: [SynodClient] };
  }

  static forRootAsync(options: SynodModuleAsyncOptions): DynamicModule {
    return {
      module: SynodModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: SynodClient,
          useFactory: async (...args: never[]) => new SynodClient(await options.useFactory(...args)),
          inject: options.inject ?? [],
        },
      ],
      exports: [SynodClient],
    };
  }
}
