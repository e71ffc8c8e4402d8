import { DynamicModule, Global, Module } from '@nestjs/common';
import type { NodeConfig } from './node-config';

export const NODE_CONFIG = Symbol('NODE_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(cfg: NodeConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: NODE_CONFIG, useValue: cfg }], exports: [NODE_CONFIG] };
  }
}
