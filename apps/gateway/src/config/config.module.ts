import { DynamicModule, Global, Module } from '@nestjs/common';
import type { GatewayConfig } from './config';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  static register(config: GatewayConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: GATEWAY_CONFIG, useValue: config }], exports: [GATEWAY_CONFIG] };
  }
}
