import { randomUUID } from 'node:crypto';
import { Bus } from '@app/bus';
import type { ReadBody, ReplicaReply } from '@app/wire';

/**
 * Talks to one replica directly over the bus, bypassing the gateway's routing: lets a test ask
 * a particular (e.g. isolated) replica for a read and see what that replica answers.
 */
export class WireClient {
  private readonly bus: Bus;
  private readonly waiting = new Map<string, (r: ReplicaReply) => void>();

  /** `homes`: each replica's home Redis (the launcher's ClusterInfo.homes). */
  constructor(homes: Record<string, string>, cluster: string) {
    this.bus = new Bus({ homes, cluster, self: `test-${randomUUID().slice(0, 8)}` });
    this.bus.onFrame((f) => {
      const body = f.body as ReplicaReply;
      this.waiting.get(body.corr)?.(body);
    });
  }

  start(): Promise<void> {
    return this.bus.start();
  }

  stop(): Promise<void> {
    return this.bus.stop();
  }

  /** The replica's answer, or null when it gave none within `timeoutMs`. */
  read(node: string, key: string, consistency: 'linearizable' | 'stale', timeoutMs = 2000): Promise<ReplicaReply | null> {
    const corr = randomUUID();
    const body: ReadBody = { t: 'read', corr, consistency, query: { op: 'get', key } };
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiting.delete(corr);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(corr, (r) => {
        clearTimeout(t);
        this.waiting.delete(corr);
        resolve(r);
      });
      this.bus.send(node, body);
    });
  }
}
