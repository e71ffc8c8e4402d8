import { mutant } from '../mutants';
import { Entry, Snapshot } from './types';

/**
 * The replicated log of one node: a snapshot (the compacted prefix) followed by entries.
 * It tracks what is not yet on stable storage (`unstableFrom`) and what is committed/applied,
 * so the node can hand the runtime exactly the work of one Ready.
 */
export class RaftLog {
  /** entries[0].index === offset + 1 */
  private entries: Entry[] = [];
  /** Index and term of the last entry covered by the snapshot (0/0 when none). */
  private offset = 0;
  private offsetTerm = 0;
  snapshot: Snapshot | null = null;
  /** A snapshot received from the leader, to be persisted and installed by the next Ready. */
  pendingSnapshot: Snapshot | null = null;
  /** The first index not yet handed out for persistence. */
  unstableFrom: number;
  commitIndex = 0;
  /** The last index handed out to be applied. */
  lastApplied = 0;

  constructor(snapshot: Snapshot | null, entries: Entry[], commitIndex: number) {
    if (snapshot) {
      this.snapshot = snapshot;
      this.offset = snapshot.lastIncludedIndex;
      this.offsetTerm = snapshot.lastIncludedTerm;
    }
    // Stored entries may reach below the snapshot when a crash fell between the two writes.
    this.entries = entries.filter((e) => e.index > this.offset);
    for (let i = 0; i < this.entries.length; i++) {
      if (this.entries[i].index !== this.offset + 1 + i) throw new Error('raft log: stored entries are not contiguous');
    }
    this.unstableFrom = this.lastIndex() + 1;
    this.lastApplied = this.offset;
    this.commitIndex = Math.min(Math.max(commitIndex, this.offset), this.lastIndex());
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  snapshotIndex(): number {
    return this.offset;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) as number;
  }

  /** Term of the entry at `index`; undefined when compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex()) return undefined;
    return this.entries[index - this.offset - 1].term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Entries in [lo, hi], at most `max` of them. lo must be above the snapshot. */
  slice(lo: number, hi: number, max = Infinity): Entry[] {
    const from = lo - this.offset - 1;
    const to = Math.min(hi, this.lastIndex(), lo + max - 1) - this.offset;
    return from < to ? this.entries.slice(from, to) : [];
  }

  /** §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up-to-date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The first index of the term of the entry at `index` (for the fast back-off hint). */
  firstIndexOfTerm(index: number): number {
    const t = this.term(index);
    let i = index;
    while (i - 1 > this.offset && this.term(i - 1) === t) i--;
    return i;
  }

  /** The last index whose term is `term`, or 0 when our log has none. */
  lastIndexOfTerm(term: number): number {
    for (let i = this.lastIndex(); i > this.offset; i--) {
      const t = this.term(i) as number;
      if (t === term) return i;
      if (t < term) return 0;
    }
    return this.offsetTerm === term ? this.offset : 0;
  }

  /** Leader append: entries of the current term at the end of the log. */
  append(entries: Entry[]): void {
    for (const e of entries) this.entries.push(e);
  }

  /**
   * Follower append after the consistency check passed: skip entries we already hold, truncate at
   * the first conflicting one and append the rest. Returns the index of the last new entry.
   */
  appendAfter(prevLogIndex: number, entries: Entry[]): number {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k];
      if (e.index <= this.offset) continue; // already compacted, hence committed and equal
      const t = this.term(e.index);
      if (t === e.term) continue;
      if (t !== undefined) {
        if (e.index <= this.commitIndex) {
          throw new Error(`raft log: conflict at committed index ${e.index} (commit ${this.commitIndex})`);
        }
        if (mutant('raft.log.keep-conflicting-suffix')) {
          for (let j = k; j < entries.length; j++) this.entries[entries[j].index - this.offset - 1] = entries[j];
          this.unstableFrom = Math.min(this.unstableFrom, e.index);
          break;
        }
        this.entries.length = e.index - this.offset - 1;
        this.unstableFrom = Math.min(this.unstableFrom, e.index);
      }
      for (let j = k; j < entries.length; j++) this.entries.push(entries[j]);
      break;
    }
    return prevLogIndex + entries.length;
  }

  commitTo(index: number): boolean {
    const to = Math.min(index, this.lastIndex());
    if (to <= this.commitIndex) return false;
    this.commitIndex = to;
    return true;
  }

  /** Replace the whole log by a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.entries = [];
    this.offset = snapshot.lastIncludedIndex;
    this.offsetTerm = snapshot.lastIncludedTerm;
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.commitIndex = snapshot.lastIncludedIndex;
    this.unstableFrom = this.offset + 1;
    // The runtime installs the snapshot before applying anything after it.
    this.lastApplied = Math.max(this.lastApplied, this.offset);
  }

  /** The application snapshotted at `snapshot.lastIncludedIndex`: drop the entries it covers. */
  compact(snapshot: Snapshot): void {
    const idx = snapshot.lastIncludedIndex;
    this.entries = this.entries.slice(idx - this.offset);
    this.offset = idx;
    this.offsetTerm = snapshot.lastIncludedTerm;
    this.snapshot = snapshot;
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(this.unstableFrom - this.offset - 1);
  }

  /** Mark as persisted, unless the entry was replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if ((this.term(index) === term || mutant('raft.log.stable-after-replace')) && index >= this.unstableFrom) this.unstableFrom = index + 1;
  }

  hasEntriesToApply(): boolean {
    return this.commitIndex > this.lastApplied;
  }

  entriesToApply(max: number): Entry[] {
    return this.slice(this.lastApplied + 1, this.commitIndex, max);
  }

  all(): Entry[] {
    return this.entries.slice();
  }
}
