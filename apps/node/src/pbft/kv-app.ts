import { packr } from '@app/consensus/kv/msgpack';
import { answerQuery, KvStateMachine, validateRequest, type KvOptions } from '@app/consensus/kv';
import { clientSigner, type PbftApp } from '@app/consensus/pbft';
import type { PbftOp, PbftOpResult } from '@app/wire';
import type { LeaseClock } from '../replica/lease-clock';

export interface KvAppOptions extends KvOptions {
  /** The replicas: requests they sign may only vote leases expired, each for itself. */
  replicas?: readonly string[];
  /** This replica's lease deadlines, fed every result and restarted with every state it restores. */
  leaseClock?: LeaseClock;
}

/**
 * The KV state machine as PBFT's application: a request's op is a batch of PbftOps, executed in
 * order. Every replica computes the same bytes for the same position, also for garbage (an
 * `error` result), which is what lets the client match f+1 replies.
 */
export class KvApp implements PbftApp {
  kv: KvStateMachine;
  private nextRevision = 1;

  private readonly replicas: ReadonlySet<string>;

  constructor(private readonly options: KvAppOptions = {}) {
    this.kv = new KvStateMachine(options);
    this.replicas = new Set(options.replicas ?? []);
  }

  execute(position: number, op: Uint8Array, client = ''): Uint8Array {
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
    const signer = clientSigner(client);
    for (const raw of ops as PbftOp[]) results.push(this.one(position, raw, signer));
    return packr.pack(results);
  }

  /** Revisions grow by one per command (KV needs them strictly increasing; PBFT positions count requests). */
  private one(_position: number, op: PbftOp, signer: string): PbftOpResult {
    const revision = this.nextRevision++;
    try {
      if (op?.kind === 'write') {
        const request = validateRequest(op.request);
        // Expiry votes count per replica (f+1 expire a lease): each only from the replica it names,
        // and a replica's signature buys nothing else.
        const isVote = request.cmd.op === 'lease-expire';
        if (isVote !== this.replicas.has(signer) || (isVote && request.cmd.op === 'lease-expire' && request.cmd.voter !== signer)) {
          this.kv.skip(revision);
          return { kind: 'error', error: isVote ? 'a lease-expire vote must be signed by the replica it names' : 'replicas may only vote lease expiry' };
        }
        const result = this.kv.apply(revision, request);
        this.options.leaseClock?.observe(result, request.id, revision);
        return { kind: 'write', result };
      }
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

  /** States restored (a replica's own at start, then any taken from peers by state transfer). */
  restores = 0;

  restore(data: Uint8Array): void {
    this.restores++;
    const s = packr.unpack(data) as { next: number; kv: Uint8Array };
    this.kv = KvStateMachine.restore(s.kv, this.options);
    this.nextRevision = s.next;
    this.options.leaseClock?.restart(this.kv.allLeases());
  }
}
