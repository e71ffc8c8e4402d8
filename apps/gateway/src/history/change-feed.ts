import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { KvEvent } from '@app/consensus/kv';
import { CONSENSUS_CLIENT, type ConsensusClient, type ReadAnswer } from '../consensus/consensus-client';

/** Which keys a watch follows: one key, or every key under a prefix ('' = all). */
export type WatchFilter = { key: string } | { prefix: string };

/** Where a watch's changes go (the SSE stream). `after`: every change at or below it is delivered. */
export interface Watcher {
  readonly filter: WatchFilter;
  after: number;
  /** Changes of whole revisions, oldest first, all above `after`. */
  deliver(events: KvEvent[]): void;
  /** The history it needs is gone: the watch ends. */
  compacted(compactRevision: number): void;
  /** Ends the stream (the gateway is shutting down). */
  end(): void;
  readonly closed: boolean;
}

/** Changes per read: whole revisions, so one big transaction may pass it. */
const PAGE = 256;
/** An idle feed reads again after this; a busy one at once. */
const IDLE_POLL_MS = 100;
const RETRY_MS = 250;
/** `after` for "from now": above any revision, so never compacted, and the answer says the current revision. */
const NOW = Number.MAX_SAFE_INTEGER;

function matcher(f: WatchFilter): (key: string) => boolean {
  if ('key' in f) return (k) => k === f.key;
  return (k) => k.startsWith(f.prefix);
}

/**
 * The watches of this gateway, served from the replicated history (linearizable reads of the
 * changes after a revision, so every event was committed and none is skipped: each read starts
 * exactly where the last one ended). A new watch first catches up on its own from its start
 * revision; once it reaches the shared cursor it joins the one live loop that reads every change
 * once for all watches. Nothing is kept here that a reconnect cannot rebuild from the history.
 */
@Injectable()
export class ChangeFeed implements OnModuleDestroy {
  private readonly live = new Set<Watcher & { match: (key: string) => boolean }>();
  /** Every watch followed, live or catching up: ended when the gateway shuts down. */
  private readonly followed = new Set<Watcher>();
  /** Every change at or below it has been given to the live watches; null while none is live. */
  private cursor: number | null = null;
  private epoch = 0;
  private pumping = false;
  private stopped = false;

  constructor(@Inject(CONSENSUS_CLIENT) private readonly client: ConsensusClient) {}

  onModuleDestroy(): void {
    this.stopped = true;
    for (const w of this.followed) w.end();
  }

  /**
   * The first read of a watch from `after` (null: from now): throws what the read throws (503,
   * 504); a compacted answer is returned for the caller to refuse with 410 before the stream starts.
   */
  async start(filter: WatchFilter, after: number | null): Promise<{ after: number; events: KvEvent[] } | { compacted: number } | { future: number }> {
    const a = await this.read(filter, after ?? NOW);
    if (a.compacted !== undefined) return { compacted: a.compacted };
    // From a revision the store has not reached (another cluster's, or a reset one's): refused, not waited for.
    if (after !== null && after > a.revision) return { future: a.revision };
    return { after: after === null ? a.revision : nextAfter(after, a), events: a.events ?? [] };
  }

  /** Follows `w` until it closes: catch-up reads of its own, then the live loop. */
  async follow(w: Watcher): Promise<void> {
    if (w.closed) return;
    if (this.stopped) return w.end();
    this.followed.add(w);
    const match = matcher(w.filter);
    // Catch up alone until at the live loop's cursor — or, with no live loop, until a read that
    // was not a full page (everything up to the revision it was served at is delivered).
    for (;;) {
      if (w.closed || this.stopped) return void this.followed.delete(w);
      if (this.cursor !== null && w.after >= this.cursor) break;
      let a: ReadAnswer;
      try {
        a = await this.read(w.filter, w.after);
      } catch {
        await sleep(RETRY_MS);
        continue;
      }
      if (a.compacted !== undefined) return this.end(w, () => w.compacted(a.compacted as number));
      this.give(
        w,
        (a.events ?? []).filter((e) => e.revision > w.after),
      );
      w.after = nextAfter(w.after, a);
      if (this.cursor === null && (a.events ?? []).length < PAGE) break;
    }
    if (w.closed || this.stopped) return void this.followed.delete(w);
    this.live.add(Object.assign(w, { match }));
    if (this.cursor === null) this.setCursor(w.after);
    if (!this.pumping) void this.pump();
  }

  /** Stops following a closed watch (the live loop also drops closed ones as it goes). */
  forget(w: Watcher): void {
    this.followed.delete(w);
    this.live.delete(w as Watcher & { match: (key: string) => boolean });
    if (this.live.size === 0) this.setCursor(null);
  }

  /**
   * Every move of the cursor starts an epoch: a read that was out while the live loop emptied and
   * restarted from another point answers a question nobody asks any more, and is dropped.
   */
  private setCursor(c: number | null): void {
    this.cursor = c;
    this.epoch++;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.stopped && this.cursor !== null) {
        for (const w of this.live) if (w.closed) this.forget(w);
        if (this.cursor === null) break;
        const from = this.cursor;
        const epoch = this.epoch;
        let a: ReadAnswer;
        try {
          a = await this.read({ prefix: '' }, from);
        } catch {
          await sleep(RETRY_MS);
          continue;
        }
        if (this.epoch !== epoch) continue;
        if (a.compacted !== undefined) {
          // Down long enough for the history to be compacted past us: those watches end.
          for (const w of this.live) if (w.after < a.compacted) this.end(w, () => w.compacted(a.compacted as number));
          if (this.cursor !== null) this.setCursor(Math.max(this.cursor, a.compacted));
          continue;
        }
        const events = a.events ?? [];
        const next = nextAfter(from, a);
        for (const w of this.live) {
          this.give(
            w,
            events.filter((e) => e.revision > w.after && w.match(e.key)),
          );
          w.after = Math.max(w.after, next);
        }
        // A watch cut off while being given its changes may have been the last one.
        if (this.cursor !== null) this.setCursor(next);
        if (events.length === 0) await sleep(IDLE_POLL_MS);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Hands `w` its changes; a watch that fails on them (its stream, a value it cannot show) ends, alone. */
  private give(w: Watcher, events: KvEvent[]): void {
    if (events.length === 0 || w.closed) return;
    try {
      w.deliver(events);
    } catch {
      this.end(w, () => w.end());
    }
  }

  private end(w: Watcher, how: () => void): void {
    this.forget(w);
    try {
      how();
    } catch {
      /* its stream is gone already */
    }
  }

  private read(filter: WatchFilter, after: number): Promise<ReadAnswer> {
    return this.client.read(randomUUID(), { op: 'changes', ...filter, after, limit: PAGE }, 'linearizable');
  }
}

/**
 * Where the next read starts: the revision the read was served at when it gave everything up to
 * it, the last change's revision when the page was full (whole revisions: that one is complete).
 */
function nextAfter(after: number, a: ReadAnswer): number {
  const events = a.events ?? [];
  if (events.length >= PAGE) return events[events.length - 1].revision;
  return Math.max(after, a.revision);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
