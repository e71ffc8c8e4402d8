import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';
import { ReplicaMetrics } from './replica-metrics';

/** The replica's Prometheus endpoint (compose and direct scrapes; gateways get the same over the bus). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly replicaMetrics: ReplicaMetrics) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  metrics(): Promise<string> {
    return this.replicaMetrics.registry.text();
  }
}
