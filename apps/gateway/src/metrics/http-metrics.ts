import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request } from '../http/express';
import { METRICS_REGISTRY } from './registry';

/**
 * From 1 ms (a stale read served locally) to the 5 s request deadline and past it (a watch stream
 * lasts as long as its client), so that the deadline's 503/504 answers land in a bucket of their own.
 */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Request latency by route template, method and status, measured from arrival to the last byte. */
@Injectable()
export class HttpMetrics {
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly lean: Counter<'route'>;
  private readonly watchers: Array<(route: string, status: number, seconds: number) => void> = [];

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.duration = new Histogram({
      name: 'synod_gateway_http_request_duration_seconds',
      help: 'HTTP request latency by method, route template and status (its _count is the request count).',
      labelNames: ['method', 'route', 'status'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.lean = new Counter({
      name: 'synod_gateway_http_lean_requests_total',
      help: 'Requests answered by a lean route (http/lean-routes.ts) rather than through Express and Nest, by route template.',
      labelNames: ['route'],
      registers: [registry],
    });
  }

  /** A request taken by a lean route. */
  readonly leanServed = (route: string): void => {
    this.lean.inc({ route });
  };

  /** Express middleware: install before the body parser, so that errors answered early are counted too. */
  readonly middleware = (req: Request, res: ServerResponse, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      // The route template, not the URL: one series per route however many keys there are.
      const route = (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? 'unmatched' : 'middleware');
      this.observe(req.method ?? 'GET', (req.baseUrl ?? '') + route, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };

  observe(method: string, route: string, status: number, seconds: number): void {
    this.duration.observe({ method, route, status: String(status) }, seconds);
    for (const w of this.watchers) w(route, status, seconds);
  }

  /** Every answered request, as observed (the fault lab's latency chart). */
  watch(watcher: (route: string, status: number, seconds: number) => void): void {
    this.watchers.push(watcher);
  }
}
