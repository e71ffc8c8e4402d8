import type { ExecutedBatch, ReplicaId } from '../../pbft/types';

/** Thrown at the first broken invariant; the schedule stops there. */
export class SimViolation extends Error {}

const dec = new TextDecoder();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * PBFT's safety properties over the correct replicas only (Byzantine ones may do anything),
 * checked incrementally as replicas execute, checkpoint and clients accept.
 */
export class PbftInvariants {
  /** seq -> the batch decided there (first correct replica to commit or execute it), and the lowest view it committed in. */
  private readonly batchAt = new Map<number, { digest: string; by: ReplicaId; view: number }>();
  /** request key -> result of its execution at a correct replica. */
  private readonly resultOf = new Map<string, { result: Uint8Array; by: ReplicaId; seq: number }>();
  /** seq -> checkpoint state digest. */
  private readonly checkpointAt = new Map<number, { digest: string; by: ReplicaId }>();
  private readonly accepted = new Map<string, Uint8Array>();
  /** Highest seq executed by a correct replica. */
  maxExecuted = 0;

  constructor(private readonly where: () => string) {}

  fail(property: string, detail: string): never {
    throw new SimViolation(`${property}: ${detail} (${this.where()})`);
  }

  /**
   * No two correct replicas commit (committed-local) or execute different batches at one
   * sequence number. `view` is the commit's view (Infinity when only the execution is seen).
   */
  decided(replica: ReplicaId, seq: number, digest: string, how: 'committed' | 'executed', view = Infinity): void {
    const prev = this.batchAt.get(seq);
    if (prev === undefined) this.batchAt.set(seq, { digest, by: replica, view });
    else if (prev.digest !== digest) {
      this.fail('agreement', `${replica} ${how} batch ${digest.slice(0, 8)} at seq ${seq}, ${prev.by} decided ${prev.digest.slice(0, 8)}`);
    } else if (view < prev.view) prev.view = view;
  }

  /**
   * The view-change lemma: once a batch committed at seq n in view v, no correct replica
   * prepares another batch at n in view v or later.
   */
  prepared(replica: ReplicaId, seq: number, digest: string, view: number): void {
    const d = this.batchAt.get(seq);
    if (d !== undefined && d.view <= view && d.digest !== digest) {
      this.fail(
        'agreement',
        `${replica} prepared ${digest.slice(0, 8)} at seq ${seq} in view ${view}, but ${d.digest.slice(0, 8)} committed there in view ${d.view}`,
      );
    }
  }

  /** Execution agrees with every decision, and results agree per request. */
  executed(replica: ReplicaId, batch: ExecutedBatch): void {
    this.decided(replica, batch.seq, batch.digest, 'executed');
    if (batch.seq > this.maxExecuted) this.maxExecuted = batch.seq;
    for (const r of batch.requests) {
      const key = `${r.client}/${r.id}`;
      const first = this.resultOf.get(key);
      if (first === undefined) this.resultOf.set(key, { result: r.result, by: replica, seq: batch.seq });
      else if (first.seq !== batch.seq) {
        // Ordered again later (a replayed request) and executed again: a second effect.
        this.fail('exactly-once', `${key} executed at seq ${batch.seq} by ${replica}, already at seq ${first.seq} by ${first.by}`);
      } else if (!sameBytes(first.result, r.result)) {
        this.fail(
          'exactly-once',
          `${key} gave "${dec.decode(r.result)}" at ${replica} (seq ${batch.seq}) but "${dec.decode(first.result)}" at ${first.by} (seq ${first.seq})`,
        );
      }
    }
  }

  checkpoint(replica: ReplicaId, seq: number, digest: string): void {
    const prev = this.checkpointAt.get(seq);
    if (prev === undefined) this.checkpointAt.set(seq, { digest, by: replica });
    else if (prev.digest !== digest)
      this.fail('checkpoint-agreement', `${replica} checkpoints seq ${seq} as ${digest.slice(0, 8)}, ${prev.by} as ${prev.digest.slice(0, 8)}`);
  }

  /** A client accepted a result: it must be what correct replicas executed, and only once. */
  clientAccepted(client: string, id: string, result: Uint8Array): void {
    const key = `${client}/${id}`;
    if (this.accepted.has(key)) this.fail('exactly-once', `${key} accepted twice`);
    this.accepted.set(key, result);
    const executed = this.resultOf.get(key);
    if (executed === undefined) this.fail('client-result', `${key} accepted ("${dec.decode(result)}") but no correct replica executed it`);
    if (!sameBytes(executed.result, result)) {
      this.fail('client-result', `${key} accepted "${dec.decode(result)}", correct replicas executed "${dec.decode(executed.result)}"`);
    }
  }

  /** The application side of exactly-once: no effect applied twice, positions strictly increasing. */
  app(replica: ReplicaId, doubleApplied: string[], positionErrors: number): void {
    if (doubleApplied.length > 0) this.fail('exactly-once', `${replica} applied ${doubleApplied.join(',')} more than once`);
    if (positionErrors > 0) this.fail('execution-order', `${replica} executed at a position not above the previous one`);
  }
}
