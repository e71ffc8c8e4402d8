import { ReplyQuorum, signRequest } from '../../pbft/client';
import type { ClientRequest, PbftCrypto, ReplicaId, Reply } from '../../pbft/types';
import { encodeCounterOp } from '../../pbft/testing/counter-app';
import type { Rng } from '../../util/rng';

export interface PendingOp {
  req: ClientRequest;
  invokedAt: number;
  /** Bumped at each retry: a timeout event for an older attempt is stale. */
  attempt: number;
  quorum: ReplyQuorum;
}

/**
 * A PBFT client: one request at a time, sent to the primary it believes in; on timeout the same
 * request (same id, same signature) goes to every replica. A result counts only on f+1 matching
 * replies from distinct replicas (the gateway's rule, from pbft/client.ts).
 */
export class SimPbftClient {
  op: PendingOp | null = null;
  done = 0;
  /** The view the client believes current (from accepted replies). */
  view = 0;
  private seq = 0;

  constructor(
    readonly id: string,
    private readonly rng: Rng,
    private readonly crypto: PbftCrypto,
    private readonly replicas: ReplicaId[],
    private readonly keys: number,
    readonly total: number,
    private readonly verify: (reply: Reply) => boolean,
    /** Replies from these replicas count, `need` of them matching (default: `replicas`, f+1). */
    private readonly quorum?: { replicas: ReplicaId[]; need: number },
  ) {}

  get finished(): boolean {
    return this.done >= this.total && this.op === null;
  }

  get primaryGuess(): ReplicaId {
    return this.replicas[this.view % this.replicas.length];
  }

  /** Starts the next operation. */
  next(now: number): PendingOp {
    const seq = ++this.seq;
    const rid = `${this.id}-${seq}`;
    const key = `k${this.rng.int(0, this.keys - 1)}`;
    const delta = this.rng.int(1, 9);
    const req = signRequest(this.crypto, { client: this.id, id: rid, ts: seq, op: encodeCounterOp({ rid, key, delta }) });
    this.op = { req, invokedAt: now, attempt: 0, quorum: new ReplyQuorum(this.quorum?.replicas ?? this.replicas, this.id, this.verify, this.quorum?.need) };
    return this.op;
  }

  /** A reply arrived: the accepted result once f+1 replicas agree (the op is then done). */
  onReply(reply: Reply): Uint8Array | null {
    const op = this.op;
    if (op === null || reply.id !== op.req.id) return null;
    const accepted = op.quorum.add(reply);
    if (accepted === null) return null;
    this.view = Math.max(this.view, accepted.view);
    this.op = null;
    this.done++;
    return accepted.result;
  }
}
