import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { expose } from './exposition';
import { GatewayCollectors } from './gateway-collectors';
import { METRICS_REGISTRY } from './registry';
import { ReplicaSeries } from './replica-series';

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly replicas: ReplicaSeries,
    private readonly collectors: GatewayCollectors,
  ) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOperation({
    summary:
      "Prometheus metrics: the gateway's (HTTP latency histogram, bus, consensus client, cluster, process and Node.js runtime) " +
      'and every replica\'s, labelled node="<id>" (relayed over the bus; a replica silent for 10 s drops out)',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4' })
  async metrics(): Promise<string> {
    const { text, conflicts } = await expose(this.registry, this.replicas.snapshots());
    this.collectors.conflictingFamilies = conflicts;
    return text;
  }
}
