import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { KvService } from '../kv/kv.service';

/** Samples kept: one per period, a retention's worth. */
const MAX_SAMPLES = 64;

/**
 * Retention by age (HISTORY_RETAIN_SECONDS), as etcd's periodic auto-compaction: the gateway
 * notes the store's revision every retention/16 (at most a minute) and compacts up to the newest
 * one noted at least the retention ago. The compaction goes through the log like any write, so
 * every replica compacts at the same revision; several gateways doing it is harmless (a
 * compaction never lowers the point). Retention by count is the replicas' own (HISTORY_EVENTS).
 */
@Injectable()
export class HistoryRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('HistoryRetention');
  private readonly samples: Array<{ at: number; revision: number }> = [];
  private timer: NodeJS.Timeout | null = null;
  private compacted = 0;

  constructor(
    private readonly kv: KvService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onApplicationBootstrap(): void {
    const retain = this.config.historyRetainMs;
    if (retain <= 0) return;
    this.timer = setInterval(() => void this.tick(Date.now()), Math.min(60_000, Math.max(1000, Math.floor(retain / 16))));
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One period: note the revision, compact what is older than the retention. Public for tests. */
  async tick(now: number): Promise<void> {
    try {
      const { revision } = await this.kv.list({ op: 'list', prefix: '', limit: 1 }, 'linearizable');
      this.samples.push({ at: now, revision });
      if (this.samples.length > MAX_SAMPLES) this.samples.shift();
      const old = this.samples.filter((s) => now - s.at >= this.config.historyRetainMs).pop();
      if (old === undefined || old.revision <= this.compacted) return;
      const r = await this.kv.write({ op: 'compact', revision: old.revision }, undefined, `retention:${old.revision}`);
      this.compacted = r.compactRevision;
    } catch (err) {
      this.logger.warn(`history retention: ${(err as Error).message}; next period`);
    }
  }
}
