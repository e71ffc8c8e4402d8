import type { ConfChange, ConfChangeType, Entry, RaftNode, RaftStatus } from '@app/consensus/raft';
import { type BeaconMembers, MEMBERSHIP_REFUSED, type MembershipReply, type MembershipRequest } from '@app/wire';

const CHANGE_TYPES: ReadonlySet<ConfChangeType> = new Set(['add-learner', 'promote', 'demote', 'remove']);
const MAX_ID = 64;

/** A refusal the gateway turns into a definite answer (409, 404, or a retry at the leader). */
function refused(reason: string, leaderHint: string | null = null): Error {
  return new Error(`${MEMBERSHIP_REFUSED}${reason}${leaderHint ? `:${leaderHint}` : ''}`);
}

/**
 * The Raft runtime's membership door: checks a request from the admin API, proposes it to the core
 * and answers once the configuration entry is applied — or fails it when another entry took its
 * place (a leader change truncated it) or the runtime stops. Waiting for the apply, not the append,
 * makes the answer definite: the change is committed.
 */
export class RaftMembership {
  private readonly waiters = new Map<number, { term: number; resolve: (r: MembershipReply) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly node: () => RaftNode,
    private readonly kick: () => void,
  ) {}

  request(req: MembershipRequest): Promise<MembershipReply> {
    const node = this.node();
    if (req?.action === 'transfer') {
      if (typeof req.to !== 'string') return Promise.reject(new Error('malformed transfer request'));
      const s = node.status();
      if (s.role !== 'leader') return Promise.reject(refused('not-leader', s.leader));
      if (!s.configuration.voters.includes(req.to))
        return Promise.reject(refused(s.configuration.learners.includes(req.to) ? 'not-a-voter' : 'unknown-member'));
      node.transferLeadership(req.to);
      this.kick();
      return Promise.resolve({ voters: s.configuration.voters, learners: s.configuration.learners, index: s.configIndex });
    }
    const changes = req?.action === 'change' ? checkChanges(req.changes) : null;
    if (changes === null) return Promise.reject(new Error('malformed membership request'));
    const r = node.proposeConfChange(changes);
    if (!r.ok) return Promise.reject(refused(r.reason, r.leaderHint));
    this.kick();
    return new Promise((resolve, reject) => this.waiters.set(r.index, { term: r.term, resolve, reject }));
  }

  /** Called for every applied entry: settles the change waiting on its index. */
  applied(e: Entry): void {
    if (this.waiters.size === 0) return;
    const w = this.waiters.get(e.index);
    if (w === undefined) return;
    this.waiters.delete(e.index);
    if (e.term !== w.term || e.type !== 'config') return w.reject(refused('superseded'));
    const s = this.node().status();
    // The configuration as of this entry: the status's when no later change was appended since.
    w.resolve({ voters: s.configuration.voters, learners: s.configuration.learners, index: s.configIndex });
  }

  stop(): void {
    for (const w of this.waiters.values()) w.reject(new Error('this replica was killed before the change was applied'));
    this.waiters.clear();
  }

  /** What the beacon says, from the status the runtime just read: its latest configuration, and the leader's view of each member. */
  beacon(s: RaftStatus): BeaconMembers {
    const members: BeaconMembers = {
      voters: s.configuration.voters,
      learners: s.configuration.learners,
      index: s.configIndex,
      committed: s.configIndex <= s.commitIndex,
    };
    if (s.role === 'leader') members.match = Object.fromEntries(Object.entries(s.progress).map(([id, p]) => [id, p.matchIndex]));
    return members;
  }
}

function checkChanges(changes: unknown): ConfChange[] | null {
  if (!Array.isArray(changes) || changes.length === 0 || changes.length > 2) return null;
  for (const c of changes as Array<Record<string, unknown>>) {
    if (typeof c !== 'object' || c === null || !CHANGE_TYPES.has(c.type as ConfChangeType)) return null;
    if (typeof c.id !== 'string' || c.id.length === 0 || c.id.length > MAX_ID) return null;
  }
  return (changes as ConfChange[]).map((c) => ({ type: c.type, id: c.id }));
}
