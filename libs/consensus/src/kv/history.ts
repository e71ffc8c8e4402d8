import type { KvEvent, KvItem } from './types';

/** Why a history question cannot be answered: what it needs was compacted away. */
export interface Compacted {
  compacted: true;
  compactRevision: number;
}

/**
 * The store's recent changes, in revision order (etcd's MVCC history, kept as a change log): every
 * change with a revision above `compactRevision` is here, none at or below it. Watches read it
 * forward; reads in the past walk it back from the current state (the `prev` of the first change
 * after a revision is the key's state at that revision).
 *
 * Bounded by a count and by bytes of keys and values; a compaction drops whole revisions (a
 * transaction's changes share one), so what is kept is always complete above the point. Everything
 * here is a function of the applied commands: every replica keeps the same history.
 */
export class KvHistory {
  private events: KvEvent[] = [];
  /** Index of the oldest kept event in `events` (dropping from the front is amortised). */
  private head = 0;
  private bytes = 0;
  private _compactRevision = 0;

  constructor(
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}

  get compactRevision(): number {
    return this._compactRevision;
  }

  get size(): number {
    return this.events.length - this.head;
  }

  /** Kept events, oldest first. */
  all(): KvEvent[] {
    return this.events.slice(this.head);
  }

  /** Appends the changes of one revision (all at once: a bound is applied between revisions only). */
  record(changes: KvEvent[]): void {
    for (const e of changes) {
      this.events.push(e);
      this.bytes += sizeOf(e);
    }
    while (this.size > this.maxEvents || (this.bytes > this.maxBytes && this.size > 0)) this.compact(this.events[this.head].revision);
  }

  /** Drops every change at or below `revision` (never lowers the point). */
  compact(revision: number): void {
    if (revision <= this._compactRevision) return;
    this._compactRevision = revision;
    while (this.head < this.events.length && this.events[this.head].revision <= revision) {
      this.bytes -= sizeOf(this.events[this.head]);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Up to `limit` changes after revision `after` that `match`, oldest first; never splits a
   * revision (its changes come all or none, unless one revision alone passes the limit).
   */
  since(after: number, match: (key: string) => boolean, limit: number): KvEvent[] | Compacted {
    if (after < this._compactRevision) return { compacted: true, compactRevision: this._compactRevision };
    const out: KvEvent[] = [];
    for (let i = this.firstAfter(after); i < this.events.length; i++) {
      const e = this.events[i];
      if (!match(e.key)) continue;
      if (out.length > 0 && out.length >= limit && e.revision !== out[out.length - 1].revision) break;
      out.push(e);
    }
    return out;
  }

  /**
   * The key as it was at `revision` (≤ the current one), given its current state: the `prev` of
   * its first change after `revision`, or the current state when it has not changed since.
   */
  at(key: string, revision: number, current: KvItem | null): KvItem | null | Compacted {
    if (revision < this._compactRevision) return { compacted: true, compactRevision: this._compactRevision };
    for (let i = this.firstAfter(revision); i < this.events.length; i++) {
      const e = this.events[i];
      if (e.key !== key) continue;
      const p = e.prev;
      return p === null
        ? null
        : { key, value: p.value, revision: p.modRevision, createRevision: p.createRevision, modRevision: p.modRevision, version: p.version };
    }
    return current;
  }

  /** Index of the first event with a revision above `revision`. */
  private firstAfter(revision: number): number {
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid].revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Restores a history as snapshot.ts decoded it. */
  static from(compactRevision: number, events: KvEvent[], maxEvents: number, maxBytes: number): KvHistory {
    const h = new KvHistory(maxEvents, maxBytes);
    h._compactRevision = compactRevision;
    h.events = events;
    h.bytes = events.reduce((n, e) => n + sizeOf(e), 0);
    return h;
  }
}

/** Approximate bytes an event holds (UTF-16 code units of its strings, plus a fixed overhead). */
function sizeOf(e: KvEvent): number {
  return 64 + e.key.length + (e.value?.length ?? 0) + (e.prev?.value.length ?? 0);
}
