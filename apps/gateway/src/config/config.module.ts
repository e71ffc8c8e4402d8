import { DynamicModule, Global, Module } from '@nestjs/common';
import type { GatewayConfig } from './config';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/**
 * Not @nestjs/config, on purpose: the gateway's config is parsed once, by the same zod schema the
 * launcher checks it with (libs/config, loadGatewayConfig), in main.ts before Nest starts (and
 * before the worker pool forks), so a bad config exits 2 with every problem listed before any
 * module loads. What is left for Nest is to provide the already-checked, typed value;
 * ConfigService's string-keyed get() and its .env loading would add a second, looser way to read
 * the same variables.
 */
@Global()
@Module({})
export class ConfigModule {
  static register(config: GatewayConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: GATEWAY_CONFIG, useValue: config }], exports: [GATEWAY_CONFIG] };
  }
}
