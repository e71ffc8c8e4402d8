import { Global, Module } from '@nestjs/common';
import { GatewayBus } from './gateway-bus';

@Global()
@Module({ providers: [GatewayBus], exports: [GatewayBus] })
export class BusModule {}
