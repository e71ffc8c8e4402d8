import cluster from 'node:cluster';

/**
 * GATEWAY_WORKERS > 1: this process forks that many gateway processes and keeps them running
 * (node:cluster; the workers share the listening port and connections are spread among them).
 * Gateways hold no state another gateway needs — each is a bus client and a PBFT client of its
 * own — so this is how the HTTP side uses more than one core. The primary serves nothing itself.
 */
const RESTART_DELAYS_MS = [100, 500, 2000, 5000];

export function runWorkerPool(count: number, log: (line: string) => void): void {
  let stopping = false;
  const failures = new Map<number, number>();
  const fork = (slot: number) => {
    const w = cluster.fork({ GATEWAY_WORKER_SLOT: String(slot) });
    w.on('exit', (code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      // A worker that exits with 2 refused its configuration: forking it again cannot help.
      if (code === 2) {
        log(`gateway worker ${slot} refused its configuration; stopping`);
        process.exit(2);
      }
      const n = failures.get(slot) ?? 0;
      failures.set(slot, n + 1);
      const delay = RESTART_DELAYS_MS[Math.min(n, RESTART_DELAYS_MS.length - 1)];
      log(`gateway worker ${slot} exited (${signal ?? `code ${code}`}); starting it again in ${delay} ms`);
      setTimeout(() => fork(slot), delay);
    });
    w.on('listening', () => failures.set(slot, 0));
  };
  for (let slot = 0; slot < count; slot++) fork(slot);
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const w of workers) w?.process.kill(signal);
    // A worker stuck in shutdown must not keep the gateway from stopping.
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** In a worker: when the primary is gone (killed), nobody restarts or stops us; leave too. */
export function exitWithPrimary(): void {
  if (cluster.isWorker) cluster.worker?.on('disconnect', () => process.exit(1));
}

export const isPoolPrimary = (workers: number): boolean => workers > 1 && cluster.isPrimary;
