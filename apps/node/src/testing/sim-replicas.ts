import type { Rng } from '@app/consensus/util/rng';
import type { ReplicaRuntime } from '../replica/runtime';
import { SlowStore } from './slow-store';

/**
 * The replicas of a runtime simulation and the network between them: each replica's store (its
 * disk, kept across crashes), its running runtime (null while crashed) and its incarnation, so a
 * frame or timer of a dead runtime never reaches its successor; partitions (`cut`) and lossy spells.
 */
export class SimReplicas<R extends ReplicaRuntime> {
  readonly cut = new Set<string>();
  lossy = false;
  readonly stores: Map<string, SlowStore>;
  readonly runtimes: Map<string, R | null>;
  private readonly incarnation: Map<string, number>;

  constructor(
    readonly ids: readonly string[],
    private readonly rng: Rng,
    lyingDisk: boolean,
    /** A fresh runtime for `id` over its store, ready to start. */
    private readonly make: (id: string, store: SlowStore) => R,
  ) {
    this.stores = new Map(ids.map((id) => [id, new SlowStore(rng, lyingDisk)]));
    this.runtimes = new Map(ids.map((id) => [id, null]));
    this.incarnation = new Map(ids.map((id) => [id, 0]));
  }

  linked(a: string, b: string): boolean {
    return !this.cut.has(a) && !this.cut.has(b);
  }

  delay(): number {
    return 0.5 + this.rng.next() * (this.lossy ? 12 : 3);
  }

  /** A runtime's sendToPeers: one frame per recipient (`to: null` = every other replica). */
  sendToPeers(from: string, messages: Array<{ to: string | null }>): void {
    const byTo = new Map<string, unknown[]>();
    for (const m of messages) for (const to of m.to === null ? this.ids.filter((x) => x !== from) : [m.to]) byTo.set(to, [...(byTo.get(to) ?? []), m]);
    for (const [to, ms] of byTo) this.deliver(from, to, ms);
  }

  async start(id: string): Promise<void> {
    if (this.runtimes.get(id)) return;
    const r = this.make(id, this.stores.get(id)!);
    this.runtimes.set(id, r);
    this.incarnation.set(id, this.incarnation.get(id)! + 1);
    await r.start();
  }

  /** The process dies: its runtime stops and its writes in flight land or not. False when it was down. */
  crash(id: string): boolean {
    const r = this.runtimes.get(id);
    if (!r) return false;
    r.stop();
    this.stores.get(id)!.crash();
    this.runtimes.set(id, null);
    this.incarnation.set(id, this.incarnation.get(id)! + 1);
    return true;
  }

  /** A frame between replicas: maybe lost (lossy spell) or late; never to a newer incarnation. */
  private deliver(from: string, to: string, ms: unknown[]): void {
    if (!this.linked(from, to) || (this.lossy && this.rng.next() < 0.15)) return;
    const inc = this.incarnation.get(to);
    setTimeout(() => {
      const r = this.runtimes.get(to);
      if (r && this.incarnation.get(to) === inc && this.linked(from, to)) r.onPeerFrame(from, { ms });
    }, this.delay());
  }
}
