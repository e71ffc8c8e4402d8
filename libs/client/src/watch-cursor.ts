/**
 * Where a watch stands, so that a reconnect neither skips nor repeats a change.
 *
 * The server resumes strictly after `Last-Event-ID`, and a transaction's changes share one
 * revision: a stream cut in the middle of a revision must be resumed before that revision, and the
 * part already delivered dropped when it comes again. So:
 * - `resumeAfter` is the highest revision known to be complete: the one before the latest event's
 *   (the stream is in revision order, so an event at r means everything below r was sent), or a
 *   progress event's revision (everything up to it was sent);
 * - events at the latest revision are counted per key, and on a new connection the first n events
 *   of a key at that revision are the n already delivered (per key and not just per revision, so
 *   that a transaction writing the same key twice still gives two events, and the order of
 *   different keys within a revision does not matter).
 */
export class WatchCursor {
  /** The next connection's Last-Event-ID; undefined until the watch has a start point. */
  resumeAfter: number | undefined;
  private latest: number | undefined;
  private delivered = new Map<string, number>();
  private replayed = new Map<string, number>();

  constructor(resumeAfter?: number) {
    this.resumeAfter = resumeAfter;
  }

  /** A new connection: the events it brings at the latest revision may be ones delivered before. */
  reconnected(): void {
    this.replayed = new Map();
  }

  /** Whether the event at (revision, key) is new: true means deliver it. */
  accept(revision: number, key: string): boolean {
    if (this.resumeAfter !== undefined && revision <= this.resumeAfter) return false;
    if (this.latest === undefined || revision > this.latest) {
      this.latest = revision;
      this.resumeAfter = revision - 1;
      this.delivered = new Map();
      this.replayed = new Map();
    } // (an event below `latest` is at or below resumeAfter: dropped above)
    const n = (this.replayed.get(key) ?? 0) + 1;
    this.replayed.set(key, n);
    if (n <= (this.delivered.get(key) ?? 0)) return false;
    this.delivered.set(key, n);
    return true;
  }

  /** The server has sent everything up to `revision`. */
  progress(revision: number): void {
    if (this.resumeAfter === undefined || revision > this.resumeAfter) this.resumeAfter = revision;
  }
}
