import type { KeyCommand, KvRequest, KvResult } from '../../kv/types';
import type { NodeId } from '../../raft/types';
import type { Rng } from '../../util/rng';

/** One client operation, from invocation to answer, across however many attempts it takes. */
export interface ClientOp {
  seq: number;
  /**
   * Writes: one to three requests proposed as one batch; a retry re-proposes those not yet
   * answered, with the same ids (exactly-once). Empty for a read.
   */
  reqs: KvRequest[];
  /** Ids of `reqs` not answered yet; the operation completes when none is left. */
  unanswered: Set<string>;
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
  private requests = 0;
  /** Last value this client saw per key: cas expectations that can succeed. */
  private readonly seen = new Map<string, string | null>();

  constructor(
    readonly id: string,
    private readonly rng: Rng,
    private readonly keys: number,
    private readonly readShare: number,
  ) {}

  /** Draws the next operation (the caller sets target and floor). */
  nextOp(now: number): ClientOp {
    const seq = ++this.seq;
    const key = `k${this.rng.int(0, this.keys - 1)}`;
    const r = this.rng.next();
    const base = { seq, invokedAt: now, floor: 0, attempt: 0, target: '' };
    if (r < this.readShare) return { ...base, reqs: [], unanswered: new Set(), readKey: key };
    const n = this.rng.next() < 0.8 ? 1 : this.rng.int(2, 3);
    const reqs: KvRequest[] = [];
    for (let k = 0; k < n; k++) {
      const id = `${this.id}/${++this.requests}`; // a session request (kv/sessions.ts)
      reqs.push({ id, ts: Math.floor(now * 10), cmd: this.command(k === 0 ? key : `k${this.rng.int(0, this.keys - 1)}`, id) });
    }
    return { ...base, reqs, unanswered: new Set(reqs.map((q) => q.id)), readKey: null };
  }

  private command(key: string, value: string): KeyCommand {
    const w = this.rng.next();
    if (w < 0.6) return { op: 'put', key, value };
    if (w < 0.75) return { op: 'delete', key };
    const s = this.rng.next();
    const expected = s < 0.6 ? (this.seen.get(key) ?? null) : s < 0.8 ? null : `${this.id}/${this.rng.int(1, Math.max(1, this.requests))}`;
    return { op: 'cas', key, expected, value };
  }

  sawWrite(r: KvResult): void {
    if (r.op !== 'put' && r.op !== 'delete' && r.op !== 'cas') return; // nothing applied (conflicts and refusals never happen to these clients; they send nothing else)
    if (r.op === 'delete') this.seen.set(r.key, null);
    else this.seen.set(r.key, r.value);
  }

  sawRead(key: string, value: string | null): void {
    this.seen.set(key, value);
  }
}
