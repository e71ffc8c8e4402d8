import type { ChildProcess } from 'node:child_process';

/** How a managed child is started and when it counts as up. */
export interface ProcessSpec {
  /** For log lines: "gateway", "replica n1", "redis n1". */
  name: string;
  spawn: () => ChildProcess;
  /** Resolves once the child serves (e.g. its port answers); start() fails if it exits first. */
  ready?: (child: ChildProcess) => Promise<void>;
}

export interface RestartPolicy {
  /** First back-off after a crash; doubles per crash in a row, up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A child that ran this long before it died starts its back-off from the beginning again. */
  resetAfterMs: number;
}

/** Exit code of a Synod process whose configuration is invalid (see libs/config). */
export const CONFIG_REFUSED = 2;

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialBackoffMs: 100, maxBackoffMs: 5000, resetAfterMs: 10_000 };

/**
 * One child process under supervision. A child that dies without being asked to (a crash, an OOM
 * kill, a SIGKILL from outside) is started again after a back-off, and the launcher says so. One that
 * was stopped on purpose (`stop()`, or `kill()` by an admin's hard kill) stays down until `start()`.
 */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  /** true while the child is meant to run: an exit is then a crash to recover from. */
  private wanted = false;
  private crashesInARow = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  restarts = 0;

  constructor(
    readonly spec: ProcessSpec,
    private readonly log: (line: string) => void,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  get running(): boolean {
    return this.child !== null && isRunning(this.child);
  }

  get pid(): number | null {
    return this.running ? (this.child!.pid ?? null) : null;
  }

  /** Spawns the child and waits until it is ready; rejects with the reason if it dies first. */
  async start(): Promise<void> {
    this.cancelRestart();
    if (this.running) return;
    this.wanted = true;
    const child = this.spec.spawn();
    this.child = child;
    this.startedAt = this.now();
    const died = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`${this.spec.name}: ${err.message}`)));
      child.once('exit', (code, sig) => reject(new Error(`${this.spec.name} exited (${code ?? sig}) while starting`)));
    });
    died.catch(() => undefined);
    child.once('exit', (code, sig) => this.onExit(child, code, sig));
    // 'error' without 'exit' (spawn failure) must not crash the launcher either.
    child.on('error', () => undefined);
    if (!this.spec.ready) return;
    try {
      await Promise.race([this.spec.ready(child), died]);
    } catch (err) {
      // Never leave a child that did not come up running unsupervised: its exit schedules the next
      // try (or, on a first start, the launcher gives up).
      if (isRunning(child)) child.kill('SIGKILL');
      throw err;
    }
  }

  /**
   * From now on an exit is not a crash: nothing is restarted. Synchronous, so a launcher shutting
   * down can release every child at once before stopping them in order (a Ctrl-C reaches the whole
   * process group, and a Redis that exits before its turn must not be brought back).
   */
  release(): void {
    this.wanted = false;
    this.cancelRestart();
  }

  /** Stops the child for good (until start()): SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    this.release();
    await terminate(this.child, 'SIGTERM', graceMs);
  }

  /** A deliberate crash (an admin's hard kill, a storage-Redis kill): SIGKILL, and no restart. */
  async kill(): Promise<void> {
    this.release();
    await terminate(this.child, 'SIGKILL', 0);
  }

  private onExit(child: ChildProcess, code: number | null, sig: NodeJS.Signals | null): void {
    if (child !== this.child || !this.wanted) return;
    if (code === CONFIG_REFUSED) {
      // The child refused its configuration: the same configuration will be refused again.
      this.wanted = false;
      this.log(`${this.spec.name} refused its configuration (exit ${code}); not restarting it`);
      return;
    }
    const ranMs = this.now() - this.startedAt;
    if (ranMs >= this.policy.resetAfterMs) this.crashesInARow = 0;
    const backoff = Math.min(this.policy.initialBackoffMs * 2 ** this.crashesInARow, this.policy.maxBackoffMs);
    this.crashesInARow++;
    this.log(`${this.spec.name} died (${sig ?? `exit ${code}`}) after ${ranMs} ms; restarting in ${backoff} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.wanted) return;
      this.restarts++;
      this.start().then(
        () => this.log(`${this.spec.name} restarted (pid ${this.pid})`),
        // start() failing means the new child died too: its exit handler schedules the next try.
        (err: Error) => this.log(`${this.spec.name} restart failed: ${err.message}`),
      );
    }, backoff);
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }
}

export function isRunning(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

async function terminate(c: ChildProcess | null, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!c || !isRunning(c)) return;
  await new Promise<void>((resolve) => {
    const t = graceMs > 0 ? setTimeout(() => c.kill('SIGKILL'), graceMs) : undefined;
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.kill(signal);
  });
}
