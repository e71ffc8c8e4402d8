import { Module } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { GatewayBus } from '../bus/gateway-bus';
import { parseBeacon } from './beacon';
import { ClusterController } from './cluster.controller';
import { ClusterView } from './cluster-view';

@Module({
  controllers: [ClusterController],
  providers: [
    {
      provide: ClusterView,
      inject: [GATEWAY_CONFIG, GatewayBus],
      useFactory: (config: GatewayConfig, bus: GatewayBus): ClusterView => {
        const view = new ClusterView({
          nodes: config.nodes,
          voters: config.voters,
          protocol: config.protocol,
          staleAfterMs: config.beaconTimeoutMs,
          reachable: (id) => bus.reachable(id),
        });
        bus.onBeacon((body) => {
          const beacon = parseBeacon(body);
          if (beacon !== null) view.observe(beacon);
        });
        return view;
      },
    },
  ],
  exports: [ClusterView],
})
export class ClusterModule {}
