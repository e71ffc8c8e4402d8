import type { Rng } from '@app/consensus/util/rng';
import { MemoryStore, type DurableStore, type PersistBatch, type StoredSnapshot, type StoredState } from '@app/storage';

/**
 * A store whose writes take a while. A crash in the middle of one either lands it or loses it,
 * there and then (as a Redis that did or did not get the command): never after the next
 * incarnation has started writing.
 */
export class SlowStore implements DurableStore {
  readonly disk = new MemoryStore();
  private readonly pending = new Set<{ timer: NodeJS.Timeout; run: () => void }>();
  constructor(
    private readonly rng: Rng,
    private readonly lies: boolean,
  ) {}
  load(): Promise<StoredState> {
    return this.later(() => this.disk.loadSync());
  }
  persist(batch: PersistBatch): Promise<void> {
    return this.later(() => (this.lies && this.rng.next() < 0.33 ? undefined : this.disk.persistSync(batch)));
  }
  compact(snapshot: StoredSnapshot): Promise<void> {
    return this.later(() => this.disk.compactSync(snapshot));
  }
  destroy(): Promise<void> {
    return this.disk.destroy();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** The process died: each write in flight lands or not, now; nobody hears back. */
  crash(): void {
    for (const p of this.pending) {
      clearTimeout(p.timer);
      if (this.rng.next() < 0.5) p.run();
    }
    this.pending.clear();
  }
  private later<T>(op: () => T): Promise<T> {
    const delay = this.rng.next() < 0.1 ? 5 + this.rng.next() * 30 : this.rng.next() * 3;
    return new Promise((resolve, reject) => {
      const p = {
        timer: setTimeout(() => {
          this.pending.delete(p);
          try {
            resolve(op());
          } catch (err) {
            reject(err as Error);
          }
        }, delay),
        run: () => {
          try {
            op();
          } catch {
            /* a write that fails validation never landed */
          }
        },
      };
      this.pending.add(p);
    });
  }
}
