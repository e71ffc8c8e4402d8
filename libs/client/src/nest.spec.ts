import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SynodClient } from './client';
import { SynodModule } from './nest';

@Injectable()
class NeedsSynod {
  constructor(readonly synod: SynodClient) {}
}

@Module({ providers: [NeedsSynod] })
class FeatureModule {}

describe('SynodModule', () => {
  it('forRoot: any module gets the one SynodClient by injection', async () => {
    @Module({ imports: [SynodModule.forRoot({ endpoints: ['http://127.0.0.1:3000'], clientId: 'app-1' }), FeatureModule] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const feature = app.get(NeedsSynod);
    expect(feature.synod).toBeInstanceOf(SynodClient);
    expect(feature.synod.clientId).toBe('app-1');
    expect(app.get(SynodClient)).toBe(feature.synod);
    await app.close();
  });

  it('forRootAsync: options from a factory with injected dependencies', async () => {
    const ENDPOINTS = 'ENDPOINTS';
    @Module({ providers: [{ provide: ENDPOINTS, useValue: ['http://a:3000', 'http://b:3000'] }], exports: [ENDPOINTS] })
    class ConfigModule {}
    @Module({
      imports: [
        SynodModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ENDPOINTS],
          useFactory: async (endpoints: string[]) => ({ endpoints, clientId: `n-${endpoints.length}` }),
        }),
        FeatureModule,
      ],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    expect(app.get(NeedsSynod).synod.clientId).toBe('n-2');
    await app.close();
  });
});
