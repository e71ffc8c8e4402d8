import { seededRng } from '@app/consensus/util/rng';
import type { HistoryOp, OpKind } from '../types';

/**
 * Histories of a real atomic KV store under random concurrency, for tests and benchmarks:
 * each op takes effect at one instant inside its [invoke, complete] interval (an
 * indeterminate op at some instant after invoke, or never), and results are computed by
 * applying the ops in the order of those instants. Such a history is linearizable by
 * construction.
 */
export interface RegisterHistoryOptions {
  seed: number;
  ops: number;
  keys: number;
  clients: number;
  /** Share of ops that end indeterminate (status 'info'). */
  infoRate?: number;
  /** Share of ops that fail without effect (status 'fail'). */
  failRate?: number;
  /** Longest op latency (ms). */
  maxLatency?: number;
}

export function registerHistory(o: RegisterHistoryOptions): HistoryOp[] {
  const rand = seededRng(o.seed).next;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const maxLatency = o.maxLatency ?? 20;
  const infoRate = o.infoRate ?? 0;
  const failRate = o.failRate ?? 0;
  const free = new Array<number>(o.clients).fill(0);
  // The last few values written per key (in invocation order): what a cas would expect.
  const recent = new Map<string, string[]>();
  const ops: HistoryOp[] = [];
  const effectAt = new Map<number, number>();

  for (let id = 1; id <= o.ops; id++) {
    let client = 0;
    for (let c = 1; c < o.clients; c++) if (free[c] < free[client]) client = c;
    const key = `k${int(0, o.keys - 1)}`;
    const invoke = free[client] + int(0, 3);
    const latency = int(1, maxLatency);
    const roll = rand();
    const kind: OpKind = roll < 0.45 ? 'get' : roll < 0.75 ? 'put' : roll < 0.9 ? 'cas' : 'delete';
    const op: HistoryOp = { id, client, kind, key, invoke, complete: invoke + latency, status: 'ok' };
    if (kind === 'cas') {
      const last = recent.get(key) ?? [];
      op.expected = rand() < 0.15 || last.length === 0 ? null : last[int(0, last.length - 1)];
    }
    if (kind === 'put' || kind === 'cas') {
      op.value = `v${id}`;
      recent.set(key, [...(recent.get(key) ?? []), op.value].slice(-3));
    }

    const fate = rand();
    if (fate < failRate) {
      op.status = 'fail';
    } else if (fate < failRate + infoRate) {
      op.status = 'info';
      op.complete = null;
      // It may still take effect long after the client gave up, or never.
      if (rand() < 0.5) effectAt.set(id, invoke + int(0, 4 * maxLatency));
    } else {
      effectAt.set(id, invoke + int(0, latency));
    }
    free[client] = invoke + latency;
    ops.push(op);
  }

  const byId = new Map(ops.map((op) => [op.id, op]));
  const order = [...effectAt].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const store = new Map<string, string>();
  for (const [id] of order) {
    const op = byId.get(id)!;
    const current = store.get(op.key) ?? null;
    let result: HistoryOp['result'];
    switch (op.kind) {
      case 'get':
        result = { value: current };
        break;
      case 'put':
        store.set(op.key, op.value!);
        result = {};
        break;
      case 'delete':
        store.delete(op.key);
        result = { deleted: current !== null };
        break;
      case 'cas': {
        const succeeded = current === (op.expected ?? null);
        if (succeeded) store.set(op.key, op.value!);
        result = { succeeded };
        break;
      }
    }
    if (op.status === 'ok') op.result = result;
  }
  return ops;
}

/**
 * Turns one ok read into a stale read: it returns a value that was certainly overwritten
 * before the read began (written by an op that completed before another write was invoked,
 * which itself completed before the read). Falls back to a value never written. Returns the
 * corrupted op.
 */
export function corruptOneRead(history: HistoryOp[], seed: number): HistoryOp {
  const rand = seededRng(seed).next;
  const reads = history.filter((o) => o.kind === 'get' && o.status === 'ok');
  const writes = history.filter((o) => o.kind === 'put' && o.status === 'ok');
  const start = Math.floor(rand() * reads.length);
  for (let n = 0; n < reads.length; n++) {
    const read = reads[(start + n) % reads.length];
    for (const old of writes) {
      if (old.key !== read.key || old.complete! >= read.invoke || old.value === read.result?.value) continue;
      const overwritten = writes.some((w) => w.key === read.key && w.invoke > old.complete! && w.complete! < read.invoke && w.value !== old.value);
      if (overwritten) {
        read.result = { value: old.value };
        return read;
      }
    }
  }
  const read = reads[start];
  read.result = { value: 'never-written' };
  return read;
}
