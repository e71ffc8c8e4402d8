import type { Entry, HardState, PersistentState, Snapshot } from '../../raft/types';

/**
 * What one replica has on stable storage. Only Ready batches (and the runtime's own compaction)
 * change it; a crash keeps exactly this and nothing else.
 */
export class Disk {
  hardState: HardState = { currentTerm: 0, votedFor: null, commitIndex: 0 };
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];

  /** The machine is replaced: nothing of the old server survives. */
  wipe(): void {
    this.hardState = { currentTerm: 0, votedFor: null, commitIndex: 0 };
    this.snapshot = null;
    this.entries = [];
  }

  /** A received snapshot replaces the stored one and every stored entry. */
  installSnapshot(s: Snapshot): void {
    this.snapshot = cloneSnapshot(s);
    this.entries = [];
  }

  saveHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** Appends, first truncating any stored suffix the new entries overlap. Returns an error text or null. */
  append(entries: Entry[]): string | null {
    if (entries.length === 0) return null;
    const first = entries[0].index;
    const base = this.snapshot?.lastIncludedIndex ?? 0;
    const last = this.lastIndex();
    if (first > last + 1) return `entries start at ${first} but storage ends at ${last}`;
    if (first <= base) return `entries start at ${first}, inside the snapshot (up to ${base})`;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].index !== first + i) return `entries to persist are not contiguous at ${entries[i].index}`;
    }
    this.entries = this.entries.filter((e) => e.index < first);
    for (const e of entries) this.entries.push(cloneEntry(e));
    return null;
  }

  /** The runtime's own compaction: keep the snapshot, drop the entries it covers. */
  compact(s: Snapshot): void {
    if (this.snapshot !== null && this.snapshot.lastIncludedIndex >= s.lastIncludedIndex) return;
    this.snapshot = cloneSnapshot(s);
    this.entries = this.entries.filter((e) => e.index > s.lastIncludedIndex);
  }

  lastIndex(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1].index : (this.snapshot?.lastIncludedIndex ?? 0);
  }

  /** A fresh copy for a restarting node: it must not share objects with what we keep. */
  load(): PersistentState {
    return {
      hardState: { ...this.hardState },
      snapshot: this.snapshot ? cloneSnapshot(this.snapshot) : null,
      entries: this.entries.map(cloneEntry),
    };
  }
}

export function cloneEntry(e: Entry): Entry {
  return { index: e.index, term: e.term, type: e.type, data: e.data === null ? null : e.data.slice() };
}

export function cloneSnapshot(s: Snapshot): Snapshot {
  return {
    lastIncludedIndex: s.lastIncludedIndex,
    lastIncludedTerm: s.lastIncludedTerm,
    configuration: { voters: [...s.configuration.voters], learners: [...s.configuration.learners] },
    data: s.data.slice(),
  };
}
