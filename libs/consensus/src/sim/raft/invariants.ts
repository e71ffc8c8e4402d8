import type { KvRequest, KvResult } from '../../kv/types';
import type { Entry, EntryType, NodeId, Role } from '../../raft/types';
import { ReferenceKv } from './reference-kv';

/** Thrown at the first broken invariant; the schedule stops there. */
export class SimViolation extends Error {}

/** What the checker needs from RaftNode.status(). */
export interface StatusView {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId | null;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  snapshotIndex: number;
}

interface SeenEntry {
  term: number;
  type: EntryType;
  data: Uint8Array | null;
  /** Term of the entry before it in the log it was first seen in (a snapshot's last term at the boundary). */
  prevTerm: number;
  node: NodeId;
}

interface AppliedEntry {
  term: number;
  type: EntryType;
  data: Uint8Array | null;
  result: KvResult | null;
  node: NodeId;
}

/** Compare KV digests every this many log positions (a digest is O(state)). */
const DIGEST_EVERY = 8;

/**
 * The Raft safety properties (Figure 3 of the paper) plus the client-visible ones, checked
 * incrementally: each observation looks only at the node that just moved, against what every
 * node has ever shown (an entry with a given index and term must be the same whenever seen).
 */
export class RaftInvariants {
  private readonly leaderOf = new Map<number, NodeId>();
  private readonly seen: SeenEntry[][] = [];
  private readonly committedTerm: number[] = [];
  /** The lowest term in which some node knew the entry committed (≥ the term it was committed in). */
  private readonly committedByTerm: number[] = [];
  private readonly committedBy: NodeId[] = [];
  private maxCommitted = 0;
  private readonly lastCommit = new Map<NodeId, number>();
  private readonly canonical: AppliedEntry[] = [];
  private canonicalLast = 0;
  private readonly digests = new Map<number, { digest: string; node: NodeId }>();
  readonly model = new ReferenceKv();

  constructor(private readonly where: () => string) {}

  fail(invariant: string, nodes: NodeId[], detail: string): never {
    throw new SimViolation(`${invariant}: ${this.where()} nodes=${[...new Set(nodes)].join(',')}: ${detail}`);
  }

  /** Highest index any replica applied (the committed log as the replicas executed it). */
  get appliedLast(): number {
    return this.canonicalLast;
  }

  /** Forget per-incarnation state of a node that crashed. */
  nodeRestarted(id: NodeId): void {
    this.lastCommit.delete(id);
  }

  /**
   * Called after every step of node `s.id`, with its in-memory log (entries after its snapshot)
   * and the term of the snapshot's last entry (0 without a snapshot).
   */
  observe(s: StatusView, log: Entry[], snapshotTerm = 0): void {
    const id = s.id;
    if (s.role === 'leader') {
      const other = this.leaderOf.get(s.term);
      if (other === undefined) this.leaderOf.set(s.term, id);
      else if (other !== id) this.fail('election-safety', [other, id], `two leaders in term ${s.term}`);
    }
    if (s.snapshotIndex > 0) this.checkSnapshot(s, snapshotTerm);
    this.checkLog(s, log, snapshotTerm);
    this.recordCommits(s, log);
    if (s.role === 'leader') this.checkLeaderCompleteness(s, log);
  }

  /** A snapshot holds committed entries only: its last one is the committed entry at its index. */
  private checkSnapshot(s: StatusView, term: number): void {
    const i = s.snapshotIndex;
    const known = this.committedTerm[i];
    if (known === undefined) {
      this.committedTerm[i] = term;
      this.committedByTerm[i] = s.term;
      this.committedBy[i] = s.id;
      if (i > this.maxCommitted) this.maxCommitted = i;
    } else if (known !== term) {
      this.fail('state-machine-safety', [this.committedBy[i], s.id], `snapshot of ${s.id} ends at ${i}/${term}, but ${i} was committed with term ${known}`);
    }
  }

  private checkLog(s: StatusView, log: Entry[], snapshotTerm: number): void {
    const id = s.id;
    if (s.lastIndex !== s.snapshotIndex + log.length) {
      this.fail('log-shape', [id], `lastIndex ${s.lastIndex} != snapshotIndex ${s.snapshotIndex} + ${log.length} entries`);
    }
    for (let k = 0; k < log.length; k++) {
      const e = log[k];
      if (e.index !== s.snapshotIndex + 1 + k) this.fail('log-shape', [id], `entry ${k} after snapshot ${s.snapshotIndex} has index ${e.index}`);
      const prevTerm = k === 0 ? snapshotTerm : log[k - 1].term;
      if (e.term < prevTerm) this.fail('log-matching', [id], `term goes down at index ${e.index}: ${prevTerm} -> ${e.term}`);
      if (e.term > s.term) this.fail('log-matching', [id], `entry ${e.index} has term ${e.term} above the node's term ${s.term}`);
      const atIndex = (this.seen[e.index] ??= []);
      const rec = atIndex.find((r) => r.term === e.term);
      if (rec === undefined) {
        atIndex.push({ term: e.term, type: e.type, data: e.data, prevTerm, node: id });
        continue;
      }
      if (rec.type !== e.type || !sameBytes(rec.data, e.data)) {
        this.fail('log-matching', [rec.node, id], `two different entries at index ${e.index} term ${e.term}`);
      }
      if (rec.prevTerm !== prevTerm) {
        this.fail('log-matching', [rec.node, id], `entry ${e.index}/${e.term} follows term ${rec.prevTerm} on ${rec.node} but term ${prevTerm} on ${id}`);
      }
    }
  }

  private recordCommits(s: StatusView, log: Entry[]): void {
    const id = s.id;
    const last = this.lastCommit.get(id) ?? 0;
    if (s.commitIndex < last) this.fail('commit-monotonic', [id], `commitIndex went back from ${last} to ${s.commitIndex}`);
    if (s.commitIndex > s.lastIndex) this.fail('log-shape', [id], `commitIndex ${s.commitIndex} beyond lastIndex ${s.lastIndex}`);
    for (let i = Math.max(last, s.snapshotIndex) + 1; i <= s.commitIndex; i++) {
      const term = log[i - s.snapshotIndex - 1].term;
      const known = this.committedTerm[i];
      if (known === undefined) {
        this.committedTerm[i] = term;
        this.committedByTerm[i] = s.term;
        this.committedBy[i] = id;
        if (i > this.maxCommitted) this.maxCommitted = i;
      } else if (known !== term) {
        this.fail(
          'state-machine-safety',
          [this.committedBy[i], id],
          `index ${i} committed with term ${known} on ${this.committedBy[i]} but term ${term} on ${id}`,
        );
      } else if (s.term < this.committedByTerm[i]) {
        this.committedByTerm[i] = s.term;
      }
    }
    this.lastCommit.set(id, s.commitIndex);
  }

  /** §5.4: an entry committed in an earlier term is in the log of every later leader. */
  private checkLeaderCompleteness(s: StatusView, log: Entry[]): void {
    for (let i = s.snapshotIndex + 1; i <= this.maxCommitted; i++) {
      const t = this.committedTerm[i];
      if (t === undefined || this.committedByTerm[i] >= s.term) continue;
      const e = log[i - s.snapshotIndex - 1];
      if (e === undefined || e.term !== t) {
        this.fail(
          'leader-completeness',
          [s.id, this.committedBy[i]],
          `leader of term ${s.term} has ${e ? `term ${e.term}` : 'nothing'} at index ${i}, committed with term ${t} by term ${this.committedByTerm[i]}`,
        );
      }
    }
  }

  /**
   * One replica applied one committed entry. The first replica to reach an index fixes what it
   * holds; the reference model predicts the result, so a request applied twice (or a wrong
   * result) is caught here.
   */
  observeApply(id: NodeId, e: Entry, req: KvRequest | null, result: KvResult | null, digest: () => string): void {
    const c = this.canonical[e.index];
    if (c === undefined) {
      if (e.index !== this.canonicalLast + 1) {
        this.fail('state-machine-safety', [id], `applied index ${e.index} while no replica has applied ${this.canonicalLast + 1}`);
      }
      const known = this.committedTerm[e.index];
      if (known !== undefined && known !== e.term) {
        this.fail('state-machine-safety', [id, this.committedBy[e.index]], `applied term ${e.term} at ${e.index}, committed term is ${known}`);
      }
      if (req !== null) {
        const expected = this.model.apply(e.index, req);
        if (!sameResult(expected, result)) {
          this.fail('exactly-once', [id], `request ${req.id} at ${e.index}: got ${JSON.stringify(result)}, expected ${JSON.stringify(expected)}`);
        }
      }
      this.canonical[e.index] = { term: e.term, type: e.type, data: e.data, result, node: id };
      this.canonicalLast = e.index;
    } else {
      if (c.term !== e.term || c.type !== e.type || !sameBytes(c.data, e.data)) {
        this.fail('state-machine-safety', [c.node, id], `index ${e.index}: ${c.node} applied term ${c.term} ${c.type}, ${id} applied term ${e.term} ${e.type}`);
      }
      if (!sameResult(c.result, result)) {
        this.fail('exactly-once', [c.node, id], `index ${e.index}: ${c.node} got ${JSON.stringify(c.result)}, ${id} got ${JSON.stringify(result)}`);
      }
    }
    if (e.index % DIGEST_EVERY === 0) this.checkDigest(id, e.index, digest());
  }

  /** Replicas at the same applied index must hold the same state. */
  checkDigest(id: NodeId, index: number, digest: string): void {
    const d = this.digests.get(index);
    if (d === undefined) this.digests.set(index, { digest, node: id });
    else if (d.digest !== digest) this.fail('state-machine-safety', [d.node, id], `KV digests differ at applied index ${index}`);
  }

  /** The entry every replica applied at `index`, if any did. */
  appliedAt(index: number): AppliedEntry | undefined {
    return this.canonical[index];
  }
}

export function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameResult(a: KvResult | null | undefined, b: KvResult | null | undefined): boolean {
  if (a == null || b == null) return a == b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join() !== kb.join()) return false;
  return ka.every((k) => (a as unknown as Record<string, unknown>)[k] === (b as unknown as Record<string, unknown>)[k]);
}
