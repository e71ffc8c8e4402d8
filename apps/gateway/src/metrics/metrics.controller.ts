import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { GatewayBus } from '../bus/gateway-bus';
import { ClusterView } from '../cluster/cluster-view';
import { CONSENSUS_CLIENT, type ConsensusClient } from '../consensus/consensus-client';
import { HttpMetrics } from './http-metrics';
import { family, type Sample } from './prometheus';

const P = 'synod_gateway';

const byLabel = (label: string, counts: Record<string, number>): Sample[] =>
  Object.entries(counts).map(([k, v]) => ({ labels: { [label]: k }, value: v }));

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly http: HttpMetrics,
    private readonly bus: GatewayBus,
    private readonly view: ClusterView,
    @Inject(CONSENSUS_CLIENT) private readonly client: ConsensusClient,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics: HTTP, bus, consensus client (batches, retries, redirects), cluster' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format' })
  metrics(): string {
    const b = this.bus.counters;
    const c = this.client.stats();
    const leader = this.view.leader();
    return [
      this.http.render(P),
      family(`${P}_bus_frames_total`, 'counter', 'Bus frames by direction/outcome.', [
        { labels: { kind: 'sent' }, value: b.sent },
        { labels: { kind: 'received' }, value: b.received },
        { labels: { kind: 'malformed' }, value: b.malformed },
        { labels: { kind: 'dropped' }, value: b.dropped },
      ]),
      family(`${P}_bus_reconnects_total`, 'counter', 'Bus Redis connections that came back after a loss.', [{ value: b.reconnects }]),
      family(`${P}_bus_handler_errors_total`, 'counter', 'Exceptions thrown by frame handlers.', [{ value: b.handlerErrors }]),
      family(`${P}_consensus_frames_total`, 'counter', 'Frames sent to replicas by type.', byLabel('type', c.frames)),
      family(`${P}_consensus_proposed_requests_total`, 'counter', 'Client requests carried by propose frames (divide by frames for the batch size).', [
        { value: c.proposedRequests },
      ]),
      family(`${P}_consensus_retries_total`, 'counter', 'Requests sent again after an unanswered attempt.', [{ value: c.retries }]),
      family(`${P}_consensus_redirects_total`, 'counter', 'Redirects received, by reason.', byLabel('reason', c.redirects)),
      family(`${P}_consensus_late_replies_total`, 'counter', 'Replies for requests no longer waited for.', [{ value: c.lateReplies }]),
      family(`${P}_consensus_failures_total`, 'counter', 'Requests that ended without a result.', [
        { labels: { outcome: 'unavailable' }, value: c.unavailable },
        { labels: { outcome: 'timeout' }, value: c.timedOut },
      ]),
      family(`${P}_consensus_in_flight`, 'gauge', 'Requests waiting for an answer.', [{ value: c.inFlight }]),
      family(`${P}_cluster_leader_known`, 'gauge', '1 when a leader/primary is known.', [{ value: leader === null ? 0 : 1 }]),
      family(`${P}_cluster_nodes_alive`, 'gauge', 'Configured nodes heard from recently.', [{ value: this.view.aliveNodes().length }]),
      '',
    ].join('\n');
  }
}
