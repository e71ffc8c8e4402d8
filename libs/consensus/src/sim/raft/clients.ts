import type { KvCommand, KvRequest, KvResult } from '../../kv/types';
import type { NodeId } from '../../raft/types';
import type { Rng } from '../../util/rng';

/** One client operation, from invocation to answer, across however many attempts it takes. */
export interface ClientOp {
  seq: number;
  /** Writes carry one request, the same on every retry (same id: exactly-once). */
  req: KvRequest | null;
  /** Reads: the key read through ReadIndex. */
  readKey: string | null;
  invokedAt: number;
  /** Reads: the highest log index of a write acknowledged before this read was invoked. */
  floor: number;
  attempt: number;
  target: NodeId;
}

export interface AckedWrite {
  client: string;
  reqId: string;
  /** The log index whose application produced the answer. */
  index: number;
  result: KvResult;
  at: number;
}

/**
 * A client of the KV service: one operation at a time, a random mix of put / cas / delete and
 * linearizable gets over a few keys (few keys: operations collide, which is what is tested).
 */
export class SimClient {
  op: ClientOp | null = null;
  leaderGuess: NodeId | null = null;
  private seq = 0;
  /** Last value this client saw per key: cas expectations that can succeed. */
  private readonly seen = new Map<string, string | null>();

  constructor(
    readonly id: string,
    private readonly rng: Rng,
    private readonly keys: number,
  ) {}

  /** Draws the next operation (the caller sets target and floor). */
  nextOp(now: number): ClientOp {
    const seq = ++this.seq;
    const key = `k${this.rng.int(0, this.keys - 1)}`;
    const r = this.rng.next();
    const base = { seq, invokedAt: now, floor: 0, attempt: 0, target: '' };
    if (r < 0.3) return { ...base, req: null, readKey: key };
    let cmd: KvCommand;
    const value = `${this.id}.${seq}`;
    if (r < 0.7) cmd = { op: 'put', key, value };
    else if (r < 0.8) cmd = { op: 'delete', key };
    else {
      const s = this.rng.next();
      const expected = s < 0.6 ? (this.seen.get(key) ?? null) : s < 0.8 ? null : `${this.id}.${this.rng.int(1, seq)}`;
      cmd = { op: 'cas', key, expected, value };
    }
    return { ...base, req: { id: `${this.id}-${seq}`, ts: Math.floor(now * 10), cmd }, readKey: null };
  }

  sawWrite(r: KvResult): void {
    if (r.op === 'delete') this.seen.set(r.key, null);
    else this.seen.set(r.key, r.value);
  }

  sawRead(key: string, value: string | null): void {
    this.seen.set(key, value);
  }
}
