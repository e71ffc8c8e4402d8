import { SynodClient, type WatchEvent } from '@app/client';
import type { RecordedOp } from './recorder';

export interface WatchReport {
  /** Changes the watch delivered to the keys the run wrote. */
  events: number;
  /** What is wrong with what it delivered ([] when nothing). */
  problems: string[];
}

/**
 * A watch over the whole run (issue 12: every committed change once, in revision order, with no
 * gap, across faults), through the SDK's watch() as a user would follow the store. What it saw is
 * checked against the history the clients recorded (verifyWatch).
 */
export class WatchObserver {
  readonly events: WatchEvent[] = [];
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();
  private error: Error | null = null;

  constructor(private readonly base: string) {}

  /** Follows every key from `fromRevision` until stop(). */
  start(fromRevision: number): void {
    const client = new SynodClient({ endpoints: [this.base] });
    this.done = (async () => {
      try {
        for await (const e of client.watch({ prefix: '' }, { fromRevision, signal: this.abort.signal, deadlineMs: Infinity })) this.events.push(e);
      } catch (err) {
        if (!this.abort.signal.aborted) this.error = err as Error;
      }
    })();
  }

  /** Waits until the watch has delivered a change to `key` with `value` (a sentinel written last). */
  async waitFor(key: string, value: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.error === null) {
      if (this.events.some((e) => e.key === key && e.value === value)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  /** What it saw, checked against the history (after stop(), and after the final reads). */
  verify(ops: readonly RecordedOp[]): WatchReport {
    const problems = this.error ? [`the watch ended: ${this.error.message}`] : [];
    const keys = new Set(ops.map((o) => o.key));
    const events = this.events.filter((e) => keys.has(e.key));
    return { events: events.length, problems: [...problems, ...verifyWatch(events, ops)] };
  }
}

/**
 * What a watch must have delivered, given the recorded history (values are unique per write):
 * revisions in order and each (revision, key) once; per key, each change's prevValue is what the
 * change before it left (a hole or a repeat breaks the chain); every acknowledged write's value
 * exactly once, a refused one's never, an indeterminate one's at most once; and each key's last
 * change equal to its final linearizable read.
 */
export function verifyWatch(events: readonly WatchEvent[], ops: readonly RecordedOp[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const current = new Map<string, string | null>();
  const written = new Map<string, number>();
  events.forEach((e, i) => {
    if (i > 0 && e.revision < events[i - 1].revision) problems.push(`revision ${e.revision} (${e.key}) after revision ${events[i - 1].revision}`);
    const id = `${e.revision}\u0000${e.key}`;
    if (seen.has(id)) problems.push(`${e.key} at revision ${e.revision} delivered twice`);
    seen.add(id);
    const before = current.get(e.key) ?? null;
    const prev = e.prevValue ?? null;
    if (prev !== before)
      problems.push(`${e.key} at revision ${e.revision}: replaced ${JSON.stringify(prev)}, but the change before it left ${JSON.stringify(before)}`);
    const value = e.type === 'put' ? (e.value as string) : null;
    current.set(e.key, value);
    if (value !== null) written.set(`${e.key}\u0000${value}`, (written.get(`${e.key}\u0000${value}`) ?? 0) + 1);
  });
  for (const op of ops) {
    if ((op.kind !== 'put' && op.kind !== 'cas') || op.value === undefined) continue;
    const n = written.get(`${op.key}\u0000${op.value}`) ?? 0;
    const applied = op.status === 'ok' && (op.kind === 'put' || op.result?.succeeded === true);
    const refused = op.status === 'fail' || (op.status === 'ok' && op.kind === 'cas' && op.result?.succeeded === false);
    if (applied && n !== 1) problems.push(`acknowledged ${op.kind} ${op.key}=${op.value} delivered ${n} times`);
    if (refused && n !== 0) problems.push(`refused ${op.kind} ${op.key}=${op.value} delivered ${n} times`);
    if (!applied && !refused && n > 1) problems.push(`indeterminate ${op.kind} ${op.key}=${op.value} delivered ${n} times`);
  }
  for (const op of ops) {
    if (op.phase !== 'final-read' || op.status !== 'ok' || op.kind !== 'get') continue;
    const last = current.get(op.key) ?? null;
    const read = op.result?.value ?? null;
    if (last !== read) problems.push(`${op.key}: the watch's last change left ${JSON.stringify(last)}, the final read says ${JSON.stringify(read)}`);
  }
  return problems;
}
