import { Inject, Injectable } from '@nestjs/common';
import type { MetricFamily } from '@app/wire';
import { GatewayBus } from '../bus/gateway-bus';
import type { GatewayConfig } from '../config/config';
import { GATEWAY_CONFIG } from '../config/config.module';
import { parseMetricsBody } from './metrics-frame';

/** Replicas publish every ~2 s: a snapshot older than this is from a replica gone (or cut off). */
export const SNAPSHOT_MAX_AGE_MS = 10_000;

export interface NodeSnapshot {
  node: string;
  receivedAt: number;
  families: MetricFamily[];
}

/**
 * The latest metrics snapshot of every replica, as heard on the bus topic `metrics`, for the
 * gateway's /metrics to re-expose with a `node` label. Age is the gateway's own receive time, so
 * clocks of other machines do not matter. A frame that fails its checks, or comes from a sender
 * that is not one of the configured nodes, is dropped and counted: made-up ids can neither add
 * series to /metrics nor grow the gateway's memory.
 */
@Injectable()
export class ReplicaSeries {
  readonly counters = { accepted: 0, malformed: 0 };
  /** Why the last refused frame was refused (for a debugging operator; also in tests). */
  lastRefusal: string | null = null;
  maxAgeMs = SNAPSHOT_MAX_AGE_MS;
  private readonly latest = new Map<string, NodeSnapshot>();
  private readonly nodes: ReadonlySet<string>;

  constructor(bus: GatewayBus, @Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.nodes = new Set(config.nodes);
    bus.onMetrics((from, body) => this.onFrame(from, body));
  }

  onFrame(from: string, body: unknown, now = Date.now()): void {
    const parsed = parseMetricsBody(body);
    if (!parsed.ok || !this.nodes.has(from)) {
      this.counters.malformed++;
      this.lastRefusal = parsed.ok ? `sender ${JSON.stringify(from).slice(0, 80)} is not a configured node` : parsed.reason;
      return;
    }
    this.latest.set(from, { node: from, receivedAt: now, families: parsed.families });
    this.counters.accepted++;
  }

  /** The fresh snapshots, by node id. */
  snapshots(now = Date.now()): NodeSnapshot[] {
    this.prune(now);
    return [...this.latest.values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  private prune(now: number): void {
    for (const [node, s] of this.latest) if (now - s.receivedAt > this.maxAgeMs) this.latest.delete(node);
  }
}
