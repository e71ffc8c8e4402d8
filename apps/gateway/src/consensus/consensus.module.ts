import { Inject, Module, OnModuleDestroy } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { GatewayBus } from '../bus/gateway-bus';
import { ClusterModule } from '../cluster/cluster.module';
import { ClusterView } from '../cluster/cluster-view';
import { CONSENSUS_CLIENT, type ConsensusClient } from './consensus-client';
import { ed25519Crypto } from '@app/consensus/pbft';
import { loadKeys, PBFT_CLIENT_ID } from '@app/wire';
import { PbftClient } from './pbft/pbft-client';
import { RaftClient } from './raft/raft-client';

/** The one place that picks the client of the cluster's protocol. */
export function createConsensusClient(config: GatewayConfig, bus: GatewayBus, view: ClusterView): ConsensusClient {
  switch (config.protocol) {
    case 'raft': {
      const client = new RaftClient(bus, view, {
        requestTimeoutMs: config.requestTimeoutMs,
        attemptTimeoutMs: config.attemptTimeoutMs,
        maxBatchRequests: config.maxBatchRequests,
        readsFrom: config.readsFrom,
      });
      bus.onReply((from, body) => client.onReply(from, body));
      return client;
    }
    case 'pbft': {
      const keys = loadKeys(config.keysDir, PBFT_CLIENT_ID, [...config.nodes, PBFT_CLIENT_ID]);
      const client = new PbftClient(bus, view, {
        replicas: config.voters,
        configurations: () => view.pbftConfigurations(),
        crypto: ed25519Crypto(keys.privateKeyPem, keys.publicKeys),
        requestTimeoutMs: config.requestTimeoutMs,
        attemptTimeoutMs: config.attemptTimeoutMs,
        maxBatch: config.maxBatchRequests,
      });
      bus.onReply((_from, body) => client.onReply(body));
      return client;
    }
  }
}

@Module({
  imports: [ClusterModule],
  providers: [{ provide: CONSENSUS_CLIENT, inject: [GATEWAY_CONFIG, GatewayBus, ClusterView], useFactory: createConsensusClient }],
  exports: [CONSENSUS_CLIENT],
})
export class ConsensusModule implements OnModuleDestroy {
  constructor(@Inject(CONSENSUS_CLIENT) private readonly client: ConsensusClient) {}

  // Before the bus stops: whoever still waits gets an answer instead of a hang.
  onModuleDestroy(): void {
    this.client.close();
  }
}
