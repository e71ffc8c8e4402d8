import { DynamicModule, Global, Module } from '@nestjs/common';
import type { NodeConfig } from './node-config';

export const NODE_CONFIG = Symbol('NODE_CONFIG');

/**
 * Not @nestjs/config, on purpose: the replica's config is parsed once, by the same zod schema the
 * launcher checks it with (libs/config, loadNodeConfig), in main.ts before Nest starts, so a bad
 * config exits 2 with every problem listed before any module loads. What is left for Nest is to
 * provide the already-checked, typed value; ConfigService's string-keyed get() and its .env loading
 * would add a second, looser way to read the same variables.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(cfg: NodeConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: NODE_CONFIG, useValue: cfg }], exports: [NODE_CONFIG] };
  }
}
