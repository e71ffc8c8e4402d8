import type { ChaosCluster } from './cluster';
import { request } from './http';
import type { Protocol } from './options';
import type { Recorder } from './recorder';
import type { Rng } from './rng';

export type FaultKind = 'kill' | 'hard-kill' | 'isolate' | 'redis-kill' | 'byzantine';

export interface FaultEvent {
  kind: FaultKind;
  node: string;
  /** The replica led (Raft leader / PBFT primary) when the fault began. */
  wasLeader: boolean;
  behavior?: string;
  /** ms on the history's clock. */
  start: number;
  end: number | null;
  errors: string[];
}

const BEHAVIORS = ['silent', 'equivocate', 'wrong-digest', 'forge', 'replay', 'stale-view', 'withhold'] as const;
const ADMIN_TIMEOUT_MS = 20_000;

/**
 * The fault injector. One replica at a time is faulty (a Raft minority of 3, PBFT's f of 4), so a
 * correct cluster always makes progress; each fault is held for a few seconds, undone, and the
 * replica given time to come back before the next. The schedule (fault, target, timings) comes
 * from the seed; the targets that are "the leader" depend on who leads at that moment.
 */
export class Nemesis {
  readonly events: FaultEvent[] = [];
  private active: FaultEvent | null = null;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly protocol: Protocol,
    private readonly rng: Rng,
    private readonly recorder: Recorder,
  ) {}

  counts(): Record<FaultKind, number> {
    const c: Record<FaultKind, number> = { kill: 0, 'hard-kill': 0, isolate: 0, 'redis-kill': 0, byzantine: 0 };
    for (const e of this.events) c[e.kind]++;
    return c;
  }

  /** Mixed faults until stopped. */
  async run(stopped: () => boolean): Promise<void> {
    const weights: Record<FaultKind, number> = { kill: 3, 'hard-kill': 3, isolate: 3, 'redis-kill': 3, byzantine: this.protocol === 'pbft' ? 4 : 0 };
    await this.pause(this.rng.int(1500, 3000), stopped);
    while (!stopped()) {
      const kind = this.rng.weighted(weights);
      const leader = await this.leader();
      const node = leader !== null && this.rng.next() < 0.5 ? leader : this.rng.pick(this.cluster.nodeIds);
      const behavior = kind === 'byzantine' ? this.rng.pick(BEHAVIORS) : undefined;
      const hold = this.rng.int(2000, 5000);
      const quiet = this.rng.int(1000, 2500);
      await this.inject(kind, node, node === leader, behavior);
      await this.pause(hold, stopped);
      await this.undo();
      await this.waitAlive(node, 20_000);
      await this.pause(quiet, stopped);
    }
  }

  /**
   * The stale-reads canary: isolate a follower so it falls behind while the others keep writing,
   * then kill the leader, so that no leader exists and the gateway serves stale reads from
   * whichever replicas are alive, the stale isolated one among them. Not a minority fault: the
   * point is to make stale reads visible, and a checker that misses them is broken.
   */
  async runStaleReadCanary(stopped: () => boolean): Promise<void> {
    await this.pause(1500, stopped);
    while (!stopped()) {
      const leader = await this.leader();
      const followers = this.cluster.nodeIds.filter((id) => id !== leader);
      const lagging = this.rng.pick(followers);
      const isolation = await this.inject('isolate', lagging, false);
      await this.pause(this.rng.int(2500, 4000), stopped);
      if (leader !== null && !stopped()) {
        const kill = await this.inject('kill', leader, true);
        await this.pause(this.rng.int(2500, 4000), stopped);
        await this.undoEvent(kill);
      }
      await this.undoEvent(isolation);
      await this.waitAlive(lagging, 20_000);
      await this.pause(this.rng.int(1000, 2000), stopped);
    }
  }

  /** Undo whatever is active, then heal, clear and revive every replica (idempotent actions). */
  async healAll(): Promise<void> {
    await this.undo();
    for (const id of this.cluster.nodeIds) {
      await this.admin(id, 'heal');
      if (this.protocol === 'pbft') await this.admin(id, 'byzantine', { behavior: 'none' });
      await this.admin(id, 'revive');
    }
  }

  async leader(): Promise<string | null> {
    const r = await request(this.cluster.url, 'GET', '/v1/cluster', { timeoutMs: 5000 });
    return r.status === 200 && typeof r.body?.leader === 'string' ? r.body.leader : null;
  }

  private async inject(kind: FaultKind, node: string, wasLeader: boolean, behavior?: string): Promise<FaultEvent> {
    const e: FaultEvent = { kind, node, wasLeader, start: this.recorder.now(), end: null, errors: [] };
    if (behavior) e.behavior = behavior;
    this.events.push(e);
    this.active = e;
    this.cluster.note(`fault ${kind}${behavior ? `(${behavior})` : ''} on ${node}${wasLeader ? ' (leader)' : ''}`);
    const err = await this.apply(kind, node, behavior);
    if (err) e.errors.push(err);
    return e;
  }

  private async apply(kind: FaultKind, node: string, behavior?: string): Promise<string | null> {
    switch (kind) {
      case 'kill':
        return this.admin(node, 'kill');
      case 'hard-kill':
        return this.admin(node, 'kill', undefined, '?mode=hard');
      case 'isolate':
        return this.admin(node, 'isolate');
      case 'byzantine':
        return this.admin(node, 'byzantine', { behavior });
      case 'redis-kill':
        // The replica's own Redis holds its log and its bus inbox: both are lost at once.
        return this.admin(node, 'storage/kill');
    }
  }

  private async undo(): Promise<void> {
    if (this.active) await this.undoEvent(this.active);
  }

  private async undoEvent(e: FaultEvent): Promise<void> {
    if (e.end !== null) return;
    let err: string | null;
    switch (e.kind) {
      case 'kill':
      case 'hard-kill':
        err = await this.admin(e.node, 'revive');
        break;
      case 'isolate':
        err = await this.admin(e.node, 'heal');
        break;
      case 'byzantine':
        err = await this.admin(e.node, 'byzantine', { behavior: 'none' });
        break;
      case 'redis-kill':
        err = await this.admin(e.node, 'storage/restart');
        break;
    }
    if (err) e.errors.push(err);
    e.end = this.recorder.now();
    if (this.active === e) this.active = null;
    this.cluster.note(`healed ${e.kind} on ${e.node}`);
  }

  /** An admin call; the error text when it did not succeed (tried a few times: the fault must be undone). */
  private async admin(node: string, action: string, body?: unknown, query = ''): Promise<string | null> {
    let last = '';
    for (let i = 0; i < 3; i++) {
      const r = await request(this.cluster.url, 'POST', `/v1/admin/nodes/${node}/${action}${query}`, { body, timeoutMs: ADMIN_TIMEOUT_MS });
      if (r.status === 200 || r.status === 201) return null;
      last = `${action}${query} ${node}: ${r.status || r.error} ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)}`;
      await sleep(500);
    }
    return last;
  }

  private async waitAlive(node: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await request(this.cluster.url, 'GET', '/v1/cluster', { timeoutMs: 5000 });
      if (r.status === 200 && r.body?.nodes?.some((n: any) => n.id === node && n.alive)) return;
      await sleep(200);
    }
  }

  private async pause(ms: number, stopped: () => boolean): Promise<void> {
    const end = Date.now() + ms;
    while (!stopped() && Date.now() < end) await sleep(Math.min(100, end - Date.now()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
