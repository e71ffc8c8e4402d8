import { Inject, Injectable } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { GatewayBus } from '../bus/gateway-bus';
import { ClusterView } from '../cluster/cluster-view';
import { CONSENSUS_CLIENT, type ConsensusClient } from '../consensus/consensus-client';
import { byLabel, scraped } from './collect';
import { METRICS_REGISTRY } from './registry';
import { ReplicaSeries } from './replica-series';

const P = 'synod_gateway';

/** The gateway's own numbers (bus, consensus client, cluster view) as prom-client collectors. */
@Injectable()
export class GatewayCollectors {
  /** Set by the exposition after each scrape; read by the next one. */
  conflictingFamilies = 0;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    bus: GatewayBus,
    view: ClusterView,
    @Inject(CONSENSUS_CLIENT) client: ConsensusClient,
    replicas: ReplicaSeries,
  ) {
    const b = () => bus.counters;
    scraped(registry, 'counter', {
      name: `${P}_bus_frames_total`,
      help: 'Bus frames by kind: sent, received, malformed (failed to decode), dropped (not published).',
      labelNames: ['kind'],
      read: () => [
        [{ kind: 'sent' }, b().sent],
        [{ kind: 'received' }, b().received],
        [{ kind: 'malformed' }, b().malformed],
        [{ kind: 'dropped' }, b().dropped],
      ],
    });
    scraped(registry, 'counter', {
      name: `${P}_bus_frames_rejected_total`,
      help: 'Well-formed bus frames refused by authentication, by reason: unknownSender, badMac (forged or altered), replayed, staleIncarnation.',
      labelNames: ['reason'],
      read: () => byLabel('reason', b().rejected),
    });
    scraped(registry, 'counter', { name: `${P}_bus_reconnects_total`, help: 'Bus Redis connections that came back after a loss.', read: () => b().reconnects });
    scraped(registry, 'counter', { name: `${P}_bus_handler_errors_total`, help: 'Exceptions thrown by frame handlers.', read: () => b().handlerErrors });

    const c = () => client.stats();
    scraped(registry, 'counter', {
      name: `${P}_consensus_frames_total`,
      help: 'Requests sent to replicas, by type (propose bodies, reads); those of one event-loop turn for one replica share a frame.',
      labelNames: ['type'],
      read: () => byLabel('type', c().frames),
    });
    scraped(registry, 'counter', {
      name: `${P}_consensus_proposed_requests_total`,
      help: 'Client requests carried by propose bodies (divide by the propose count for the batch size).',
      read: () => c().proposedRequests,
    });
    scraped(registry, 'counter', { name: `${P}_consensus_retries_total`, help: 'Requests sent again after an unanswered attempt.', read: () => c().retries });
    scraped(registry, 'counter', {
      name: `${P}_consensus_redirects_total`,
      help: 'Redirects received, by reason.',
      labelNames: ['reason'],
      read: () => byLabel('reason', c().redirects),
    });
    scraped(registry, 'counter', {
      name: `${P}_consensus_late_replies_total`,
      help: 'Replies for requests no longer waited for.',
      read: () => c().lateReplies,
    });
    scraped(registry, 'counter', {
      name: `${P}_consensus_failures_total`,
      help: 'Requests that ended without a result: unavailable (503) or timeout (504, outcome unknown).',
      labelNames: ['outcome'],
      read: () => [
        [{ outcome: 'unavailable' }, c().unavailable],
        [{ outcome: 'timeout' }, c().timedOut],
      ],
    });
    scraped(registry, 'gauge', { name: `${P}_consensus_in_flight`, help: 'Requests waiting for an answer.', read: () => c().inFlight });

    scraped(registry, 'gauge', { name: `${P}_cluster_leader_known`, help: '1 when a leader/primary is known.', read: () => (view.leader() === null ? 0 : 1) });
    scraped(registry, 'gauge', { name: `${P}_cluster_nodes_alive`, help: 'Configured nodes heard from recently.', read: () => view.aliveNodes().length });

    scraped(registry, 'counter', {
      name: `${P}_replica_metrics_frames_total`,
      help: "Replicas' metrics snapshots heard on the bus: accepted, or malformed (dropped: bad frame or unknown sender).",
      labelNames: ['outcome'],
      read: () => [
        [{ outcome: 'accepted' }, replicas.counters.accepted],
        [{ outcome: 'malformed' }, replicas.counters.malformed],
      ],
    });
    scraped(registry, 'gauge', {
      name: `${P}_replica_metrics_nodes`,
      help: 'Replicas whose metrics snapshot is fresh (re-exposed with a node label).',
      read: () => replicas.snapshots().length,
    });
    scraped(registry, 'gauge', {
      name: `${P}_replica_metrics_conflicts`,
      help: 'Replica families left out of the last scrape: the name is taken with another type.',
      read: () => this.conflictingFamilies,
    });
  }
}
