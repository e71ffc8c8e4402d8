import { execute, KvClientOptions } from './kv-client';
import type { RecordedOp } from './recorder';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DurabilityReport {
  attempted: number;
  acknowledged: number;
  /** Acknowledged keys missing (or holding another value) at the end. */
  lost: string[];
  /** Keys whose final read never got an answer: neither shown present nor lost. */
  unverified: string[];
}

/**
 * Writes to unique keys (dur-<n>, each written once) through the faults; at the end every
 * acknowledged one must be there. The writes and the final reads join the checked history too,
 * so a key whose write was refused (503: nothing applied) must also read as absent.
 */
export class DurabilityStream {
  private readonly writes: RecordedOp[] = [];

  constructor(
    private readonly client: number,
    private readonly kv: KvClientOptions,
  ) {}

  async run(everyMs: number, stopped: () => boolean): Promise<void> {
    for (let n = 0; !stopped(); n++) {
      const key = `dur-${n}`;
      const op = this.kv.recorder.invoke(this.client, 'durability', 'put', key, { value: `d${n}` });
      this.writes.push(op);
      await execute(op, this.kv);
      if (everyMs > 0) await sleep(everyMs);
    }
  }

  /** Reads back every key written (linearizably, `parallel` at a time, each until answered). */
  async verify(firstClient: number, parallel: number, deadline: number): Promise<DurabilityReport> {
    const report: DurabilityReport = { attempted: this.writes.length, acknowledged: 0, lost: [], unverified: [] };
    const queue = this.writes.slice();
    const worker = async (client: number): Promise<void> => {
      for (let w = queue.shift(); w; w = queue.shift()) {
        const read = await readUntilAnswered(this.kv, client, w.key, deadline);
        if (w.status !== 'ok') continue;
        report.acknowledged++;
        if (read === null) report.unverified.push(w.key);
        else if (read.result?.value !== w.value) report.lost.push(w.key);
      }
    };
    await Promise.all(Array.from({ length: parallel }, (_, i) => worker(firstClient + i)));
    return report;
  }
}

/** A linearizable read, tried again until it is answered or the deadline (Date.now()) passes. */
export async function readUntilAnswered(kv: KvClientOptions, client: number, key: string, deadline: number): Promise<RecordedOp | null> {
  for (;;) {
    const op = kv.recorder.invoke(client, 'final-read', 'get', key);
    op.consistency = 'linearizable';
    await execute(op, kv);
    if (op.status === 'ok') return op;
    if (Date.now() > deadline) return null;
    await sleep(200);
  }
}
