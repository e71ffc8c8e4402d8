import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from '../http/express';
import { family, Reservoir, type Sample } from './prometheus';

const QUANTILES = [0.5, 0.9, 0.99];

/** Requests by route and status, and latency by route, measured from arrival to the last byte. */
@Injectable()
export class HttpMetrics {
  private readonly counts = new Map<string, { method: string; route: string; status: string; n: number }>();
  private readonly latency = new Map<string, Reservoir>();

  /** Express middleware: install first, so that errors answered early are counted too. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      // The route pattern, not the URL: one series per route however many keys there are.
      const route = (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? 'unmatched' : 'middleware');
      const base = (req.baseUrl ?? '') + route;
      this.observe(req.method ?? 'GET', base, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { method, route, status: String(status), n: 1 });
    const r = this.latency.get(route) ?? new Reservoir();
    this.latency.set(route, r);
    r.observe(seconds);
  }

  render(prefix: string): string {
    const count: Sample[] = [...this.counts.values()].map((c) => ({ labels: { method: c.method, route: c.route, status: c.status }, value: c.n }));
    const lat: Sample[] = [];
    for (const [route, r] of this.latency) {
      for (const q of QUANTILES) lat.push({ labels: { route, quantile: String(q) }, value: r.quantile(q) });
      lat.push({ labels: { route }, value: r.sum, suffix: '_sum' }, { labels: { route }, value: r.count, suffix: '_count' });
    }
    return [
      family(`${prefix}_http_requests_total`, 'counter', 'HTTP requests by method, route and status.', count),
      family(`${prefix}_http_request_duration_seconds`, 'summary', 'HTTP request latency by route (quantiles over the last 1024).', lat),
    ].join('\n');
  }
}
