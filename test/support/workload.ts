import type { HistoryOp } from '@app/history';
import type { TestCluster } from './cluster';

/** Clients writing and reading a few keys, every operation recorded for the checker. */
export class Workload {
  readonly history: HistoryOp[] = [];
  /** When each write was acknowledged (ms since start): the gaps are the unavailability. */
  readonly acks: number[] = [];
  private running = true;
  private readonly t0 = performance.now();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly c: TestCluster,
    private readonly clients: number,
    private readonly keys: number,
  ) {}

  start(): void {
    this.loops = Array.from({ length: this.clients }, (_, i) => this.loop(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  private async loop(client: number): Promise<void> {
    for (let n = 0; this.running; n++) {
      const key = `m/${(client + n) % this.keys}`;
      const op: HistoryOp = { id: this.history.length, client, kind: n % 3 === 2 ? 'get' : 'put', key, invoke: this.now(), complete: null, status: 'info' };
      this.history.push(op);
      try {
        if (op.kind === 'put') {
          op.value = `c${client}-${n}`;
          const r = await this.c.put(key, op.value, { 'idempotency-key': `w-${client}-${n}` });
          if (r.status === 200) {
            op.status = 'ok';
            this.acks.push(this.now());
          } else if (r.status === 503) {
            op.status = 'fail'; // the gateway promises nothing was applied; a 504 stays open (info)
          }
        } else {
          const r = await this.c.get(key);
          if (r.status === 200 || r.status === 404) {
            op.status = 'ok';
            op.result = { value: r.status === 200 ? r.body.value : null };
          } else if (r.status === 503) {
            op.status = 'fail'; // a read that was not served has no effect
          }
        }
      } catch {
        // a dropped connection: the write's fate is unknown (info)
      }
      if (op.status !== 'info') op.complete = this.now();
      if (op.status === 'info' && op.kind === 'get') op.status = 'fail';
    }
  }

  longestWriteGapMs(): number {
    let gap = 0;
    for (let i = 1; i < this.acks.length; i++) gap = Math.max(gap, this.acks[i] - this.acks[i - 1]);
    return gap;
  }
}

/** One read of each of the workload's keys after it stopped, as operations after everything else (what nothing may lose). */
export async function finalReads(c: TestCluster, firstId: number, keys: number): Promise<HistoryOp[]> {
  const final: HistoryOp[] = [];
  for (let k = 0; k < keys; k++) {
    const r = await c.get(`m/${k}`);
    final.push({
      id: firstId + k,
      client: 99,
      kind: 'get',
      key: `m/${k}`,
      invoke: 1e12,
      complete: 1e12 + 1,
      status: 'ok',
      result: { value: r.status === 200 ? r.body.value : null },
    });
  }
  return final;
}
