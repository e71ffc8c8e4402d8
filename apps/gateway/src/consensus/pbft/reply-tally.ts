import { matchingReplies, type Reply } from '@app/consensus/pbft';
import { faultsOf, type PbftConfigurations } from '../../cluster/pbft-configurations';

/** Who may answer a request, and how many matching answers make it accepted. */
export interface ReplyRule {
  members: ReadonlySet<string>;
  /** Matching replies needed: the largest f of the configurations counted, plus one. */
  need: number;
}

/**
 * The replicas whose replies count for a request sent while configuration `sentEpoch` was in force
 * (as the gateway knew it): that one, every later one, and the one decided next, since the request
 * may be executed before or after a change's boundary. Across a change a reply quorum is the larger
 * f of the old and new sets plus one (C&L's f+1, with the f the request may face), so f+1 matching
 * replies still include a correct replica whichever configuration executed it.
 */
export function replyRule(c: PbftConfigurations, sentEpoch: number): ReplyRule {
  const sets = [c.prev !== null && c.prev.epoch >= sentEpoch ? c.prev : null, c.current, c.next].filter((x) => x !== null);
  return {
    members: new Set(sets.flatMap((s) => s.replicas)),
    need: Math.max(...sets.map((s) => faultsOf(s.replicas.length))) + 1,
  };
}

/**
 * The replies to one request, the first per replica (checked by the caller), judged by the rule in
 * force when each one arrives: the configuration may change while the request is outstanding.
 */
export class ReplyTally {
  private readonly byReplica = new Map<string, Reply>();

  get size(): number {
    return this.byReplica.size;
  }

  has(from: string): boolean {
    return this.byReplica.has(from);
  }

  /** Records `reply`; returns the replicas whose results match it once they are `need` members, else null. */
  add(reply: Reply, rule: ReplyRule): string[] | null {
    if (!this.byReplica.has(reply.from)) this.byReplica.set(reply.from, reply);
    const matching = matchingReplies(this.byReplica, reply, (from) => rule.members.has(from));
    return matching.length >= rule.need ? matching.map((r) => r.from) : null;
  }
}
