import { StorageError } from '@app/storage';

/**
 * The driver both protocol runtimes share: handle one Ready at a time, on the next turn of the
 * event loop after any input, until the core has nothing left to hand out.
 */
export class ReadyLoop {
  private running = false;
  private kicked = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  /**
   * `fatal` is told when handling a Ready threw, or storage refused a write as inconsistent: the
   * core can no longer be trusted to match the disk, so the replica must restart from storage.
   */
  constructor(
    private readonly hasReady: () => boolean,
    private readonly handleOne: () => Promise<void>,
    private readonly fatal: (err: Error) => void,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** After any input (tick, message, request): make sure the pending work gets handled. */
  kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      void this.run();
    });
  }

  /** The core's logical clock: `tick` every `ms`, each followed by a kick. */
  startTicking(ms: number, tick: () => void): void {
    this.timer = setInterval(() => {
      tick();
      this.kick();
    }, ms);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Storage writes are idempotent and nothing may be sent before they are durable: retry until
   * done while storage is merely unreachable; an inconsistency (the store lost data) is fatal.
   */
  async untilDone(op: () => Promise<void>, onRetry: (err: Error, attempt: number) => void): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (err instanceof StorageError && err.code !== 'CLOSED') throw err;
        onRetry(err as Error, attempt);
        await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]));
      }
    }
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      while (!this.stopped && this.hasReady()) await this.handleOne();
    } catch (err) {
      this.stop();
      this.fatal(err as Error);
    } finally {
      this.running = false;
      if (!this.stopped && this.hasReady()) this.kick();
    }
  }
}

const RETRY_MS = [20, 50, 100, 250, 500];
