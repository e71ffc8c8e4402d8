import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { BusCounters } from '@app/bus';
import { METRICS_TOPIC, type MetricsBody } from '@app/wire';
import { NODE_CONFIG } from '../config/config.module';
import type { NodeConfig } from '../config/node-config';
import { ReplicaService } from '../replica/replica.service';
import { ReplicaRegistry } from './replica-registry';

/** How often a replica publishes its snapshot; gateways drop a replica's series after 10 s of silence. */
export const METRICS_PUBLISH_MS = 2000;

/**
 * The replica's metrics: served on its own GET /metrics, and published on the bus topic `metrics`
 * every 2 s, so that a gateway's /metrics carries every replica's series (label node) and one scrape
 * target sees the whole cluster even where replicas' ports are not reachable.
 */
@Injectable()
export class ReplicaMetrics implements OnApplicationBootstrap, OnModuleDestroy {
  readonly registry: ReplicaRegistry;
  private readonly logger = new Logger('ReplicaMetrics');
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(
    @Inject(NODE_CONFIG) cfg: NodeConfig,
    private readonly replica: ReplicaService,
  ) {
    this.registry = new ReplicaRegistry(cfg.nodeId, {
      status: () => replica.controlStatus(),
      counters: () => ({
        bus: busCounters(replica.bus.counters),
        replica: replica.counters,
        runtime: replica.runtimeStatus()?.counters,
      }),
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.publish(), METRICS_PUBLISH_MS);
    this.timer.unref();
    void this.publish();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One snapshot onto the bus (at most once: pub/sub may lose it, the next one follows in 2 s). */
  async publish(): Promise<void> {
    try {
      const families = (await this.registry.snapshot()) as unknown as MetricsBody['families'];
      const body: MetricsBody = { t: 'metrics', families };
      this.replica.bus.publish(METRICS_TOPIC, body);
      this.failing = false;
    } catch (err) {
      // Once per failure streak, not every 2 s.
      if (!this.failing) this.logger.warn(`metrics snapshot not published: ${(err as Error).message}`);
      this.failing = true;
    }
  }
}

/** The bus counters flat, one per refusal reason: `rejected.badMac` -> `synod_bus_rejected_bad_mac_total`. */
function busCounters({ rejected, ...counts }: BusCounters): Record<string, number> {
  return { ...counts, ...Object.fromEntries(Object.entries(rejected).map(([reason, n]) => [`rejected_${reason}`, n])) };
}
