import { Packr } from 'msgpackr';
import { answerQuery, KvStateMachine, validateRequest, type KvOptions } from '@app/consensus/kv';
import type { PbftApp } from '@app/consensus/pbft';
import type { PbftOp, PbftOpResult } from '@app/wire';

const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * The KV state machine as PBFT's application: a request's op is a batch of PbftOps, executed in
 * order. Every replica computes the same bytes for the same position, also for garbage (an
 * `error` result), which is what lets the client match f+1 replies.
 */
export class KvApp implements PbftApp {
  kv: KvStateMachine;
  private nextRevision = 1;

  constructor(private readonly options: KvOptions = {}) {
    this.kv = new KvStateMachine(options);
  }

  execute(position: number, op: Uint8Array): Uint8Array {
    let ops: unknown;
    try {
      ops = packr.unpack(op);
    } catch {
      ops = null;
    }
    const results: PbftOpResult[] = [];
    if (!Array.isArray(ops)) {
      results.push({ kind: 'error', error: 'malformed op batch' });
      return packr.pack(results);
    }
    for (const raw of ops as PbftOp[]) results.push(this.one(position, raw));
    return packr.pack(results);
  }

  /** Revisions grow by one per command (KV needs them strictly increasing; PBFT positions count requests). */
  private one(_position: number, op: PbftOp): PbftOpResult {
    const revision = this.nextRevision++;
    try {
      if (op?.kind === 'write') return { kind: 'write', result: this.kv.apply(revision, validateRequest(op.request)) };
      this.kv.skip(revision);
      if (op?.kind === 'read') {
        const answer = answerQuery(this.kv, op.query);
        if (answer !== null) return { kind: 'read', ...answer, revision: this.kv.appliedRevision };
      }
      return { kind: 'error', error: 'unknown op' };
    } catch (err) {
      return { kind: 'error', error: (err as Error).message };
    }
  }

  digest(): string {
    return this.kv.digest();
  }

  snapshot(): Uint8Array {
    return packr.pack({ next: this.nextRevision, kv: this.kv.snapshot() });
  }

  restore(data: Uint8Array): void {
    const s = packr.unpack(data) as { next: number; kv: Uint8Array };
    this.kv = KvStateMachine.restore(s.kv, this.options);
    this.nextRevision = s.next;
  }
}
