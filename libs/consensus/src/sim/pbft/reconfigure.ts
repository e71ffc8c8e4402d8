import { ReplyQuorum, signRequest } from '../../pbft/client';
import { encodeReconfiguration } from '../../pbft/reconfiguration';
import type { ClientRequest, PbftCrypto, ReplicaId, Reply } from '../../pbft/types';
import { pick, type Rng, shuffled } from '../../util/rng';

/** The admin principal's client id (its signer) in simulated clusters that reconfigure. */
export const SIM_ADMIN = 'admin';

export interface AdminOp {
  req: ClientRequest;
  replicas: ReplicaId[];
  /** The configuration in force when it was sent (joiners are started trusting it). */
  from: { epoch: number; replicas: ReplicaId[]; since: number };
  invokedAt: number;
  attempt: number;
  quorum: ReplyQuorum;
}

/**
 * The admin of a simulated cluster: one reconfiguration at a time, signed with the admin key, sent to
 * every replica and retransmitted until f+1 matching replies (f the largest of any configuration).
 */
export class SimAdmin {
  op: AdminOp | null = null;
  private ts = 0;
  accepted = 0;

  constructor(
    private readonly crypto: PbftCrypto,
    private readonly replicas: ReplicaId[],
    private readonly need: number,
    private readonly verify: (reply: Reply) => boolean,
  ) {}

  start(replicas: ReplicaId[], from: AdminOp['from'], now: number): AdminOp {
    const ts = ++this.ts;
    const req = signRequest(this.crypto, { client: SIM_ADMIN, id: `reconfigure-${ts}`, ts, op: encodeReconfiguration(replicas) });
    this.op = { req, replicas, from, invokedAt: now, attempt: 0, quorum: new ReplyQuorum(this.replicas, SIM_ADMIN, this.verify, this.need) };
    return this.op;
  }

  onReply(reply: Reply): Uint8Array | null {
    const op = this.op;
    if (op === null || reply.id !== op.req.id) return null;
    const accepted = op.quorum.add(reply);
    if (accepted === null) return null;
    this.op = null;
    this.accepted++;
    return accepted.result;
  }
}

/**
 * The next replica set: grow 4 -> 7, shrink 7 -> 4, or replace one replica by one outside the set,
 * never with more Byzantine replicas than the new set's f (the model's bound per configuration).
 */
export function chooseReplicaSet(rng: Rng, current: ReplicaId[], all: ReplicaId[], byzantine: (id: ReplicaId) => boolean): ReplicaId[] | null {
  const outside = all.filter((id) => !current.includes(id) && !byzantine(id));
  const fits = (set: ReplicaId[]): boolean => set.filter(byzantine).length <= (set.length - 1) / 3;
  const kind = pick(rng, current.length === 4 ? ['grow', 'replace'] : ['shrink', 'replace']);
  if (kind === 'grow' && outside.length >= 3) return [...current, ...shuffled(outside, rng).slice(0, 3)];
  if (kind === 'shrink') {
    for (let i = 0; i < 10; i++) {
      const set = shuffled(current, rng).slice(0, 4);
      if (fits(set)) return all.filter((id) => set.includes(id));
    }
    return null;
  }
  const correct = current.filter((id) => !byzantine(id));
  if (outside.length === 0 || correct.length === 0) return null;
  const out = pick(rng, correct);
  const set = current.map((id) => (id === out ? pick(rng, outside) : id));
  return fits(set) ? set : null;
}
