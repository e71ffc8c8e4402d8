import { randomUUID } from 'node:crypto';
import { Bus, CLIENT_PRINCIPAL } from '@app/bus';
import { bodiesOf, loadBusKeys, type ReadBody, type ReplicaReply } from '@app/wire';
import type { ClusterInfo } from '../../apps/launcher/src/launcher';

/**
 * Talks to one replica directly over the bus, bypassing the gateway's routing: lets a test ask
 * a particular (e.g. isolated) replica for a read and see what that replica answers.
 */
export class WireClient {
  private readonly bus: Bus;
  private readonly waiting = new Map<string, (r: ReplicaReply) => void>();

  /** On the cluster's bus as a client, with the gateways' key (from the launcher's key directory). */
  constructor(info: ClusterInfo) {
    this.bus = new Bus({ homes: info.homes, cluster: info.cluster, self: `test-${randomUUID().slice(0, 8)}`, auth: clientAuth(info) });
    this.bus.onFrame((f) => {
      for (const body of (bodiesOf(f.body) ?? []) as ReplicaReply[]) this.waiting.get(body.corr)?.(body);
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

/** Bus auth options of a client (the `gateway` principal) of the launcher's cluster. */
export function clientAuth(info: ClusterInfo) {
  const replicas = info.nodes.map((n) => n.id);
  return { keys: loadBusKeys(info.keys, CLIENT_PRINCIPAL, [...replicas, CLIENT_PRINCIPAL]), replicas };
}
