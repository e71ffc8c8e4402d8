import { replyPayload, requestPayload } from './codec';
import type { ClientRequest, PbftCrypto, ReplicaId, Reply } from './types';

/** Builds a request signed by the client (the gateway's key). */
export function signRequest(crypto: PbftCrypto, body: Omit<ClientRequest, 'sig'>): ClientRequest {
  return { ...body, sig: crypto.sign(requestPayload(body)) };
}

export function verifyReply(crypto: PbftCrypto, reply: Reply): boolean {
  try {
    return crypto.verify(reply.from, replyPayload(reply), reply.sig);
  } catch {
    return false;
  }
}

export interface AcceptedReply {
  id: string;
  result: Uint8Array;
  /** The lowest view among the matching replies (where to send the next request). */
  view: number;
  /** The replicas whose replies matched. */
  replicas: ReplicaId[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The replies, one per replica, whose result is `reply`'s, among those `counts` lets count. */
export function matchingReplies(byReplica: ReadonlyMap<ReplicaId, Reply>, reply: Reply, counts: (from: ReplicaId) => boolean = () => true): Reply[] {
  return [...byReplica.values()].filter((r) => counts(r.from) && sameBytes(r.result, reply.result));
}

/**
 * The client side of PBFT: a result is accepted only when f+1 distinct replicas sent the same
 * result for the same request id (at least one of them is correct). Replies from non-members,
 * with a bad signature, or addressed to another client are ignored.
 */
export class ReplyQuorum {
  private readonly members: Set<ReplicaId>;
  private readonly need: number;
  /** request id -> replica -> its reply (the first one counts). */
  private readonly pending = new Map<string, Map<ReplicaId, Reply>>();
  private readonly accepted = new Map<string, AcceptedReply>();

  constructor(
    replicas: ReplicaId[],
    private readonly client: string,
    private readonly verify: (reply: Reply) => boolean,
    /** Matching replies needed (default f+1 of `replicas`); across reconfigurations, the largest f of the configurations plus one. */
    need?: number,
  ) {
    this.members = new Set(replicas);
    this.need = need ?? Math.floor((replicas.length - 1) / 3) + 1;
  }

  /** Adds a reply; returns the accepted result the first time a request reaches f+1 matching replies. */
  add(reply: Reply): AcceptedReply | null {
    if (reply.to !== this.client || !this.members.has(reply.from) || this.accepted.has(reply.id)) return null;
    if (!this.verify(reply)) return null;
    let byReplica = this.pending.get(reply.id);
    if (byReplica === undefined) {
      byReplica = new Map();
      this.pending.set(reply.id, byReplica);
    }
    if (byReplica.has(reply.from)) return null;
    byReplica.set(reply.from, reply);
    const matching = matchingReplies(byReplica, reply);
    if (matching.length < this.need) return null;
    const accepted: AcceptedReply = {
      id: reply.id,
      result: reply.result,
      view: Math.min(...matching.map((r) => r.view)),
      replicas: matching.map((r) => r.from),
    };
    this.accepted.set(reply.id, accepted);
    this.pending.delete(reply.id);
    return accepted;
  }

  /** The accepted result of a request, if any. */
  result(id: string): AcceptedReply | undefined {
    return this.accepted.get(id);
  }

  /** Requests tracked: pending or accepted and not yet forgotten. */
  size(): number {
    return this.pending.size + this.accepted.size;
  }

  /** Stops tracking a request (accepted or abandoned). */
  forget(id: string): void {
    this.pending.delete(id);
    this.accepted.delete(id);
  }
}

/** Stateless form: the result f+1 distinct members agree on among `replies` for one request, or null. */
export function acceptReplies(replies: Reply[], replicas: ReplicaId[]): Uint8Array | null {
  const members = new Set(replicas);
  const need = Math.floor((replicas.length - 1) / 3) + 1;
  const firstByReplica = new Map<ReplicaId, Reply>();
  for (const r of replies) if (members.has(r.from) && !firstByReplica.has(r.from)) firstByReplica.set(r.from, r);
  const all = [...firstByReplica.values()];
  for (const r of all) if (all.filter((o) => o.id === r.id && sameBytes(o.result, r.result)).length >= need) return r.result;
  return null;
}
