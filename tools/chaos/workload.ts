import type { OpKind } from '@app/history';
import { execute, KvClientOptions } from './kv-client';
import type { Rng } from './rng';

export interface WorkloadOptions {
  clients: number;
  keys: number;
  /** GETs ask for this consistency (the stale-reads canary asks for stale). */
  readConsistency: 'linearizable' | 'stale';
  /** Extra clients that only read: reads keep flowing while every writer waits out a fault. */
  readers: number;
}

const MIX: Record<OpKind, number> = { get: 45, put: 25, cas: 20, delete: 10 };
const READS: Record<OpKind, number> = { get: 1, put: 0, cas: 0, delete: 0 };

export function workloadKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `k${i}`);
}

/**
 * Concurrent clients, each with one operation in flight, doing put / get / cas / delete on a small
 * key set until `stopped()` says so. Every written value is unique (client.sequence), which keeps
 * the checker's search small and makes any misplaced value identifiable.
 */
export async function runWorkload(rng: Rng, o: WorkloadOptions, kv: KvClientOptions, stopped: () => boolean): Promise<void> {
  const keys = workloadKeys(o.keys);
  const n = o.clients + o.readers;
  await Promise.all(Array.from({ length: n }, (_, c) => client(c, rng.fork(c), keys, c < o.clients ? MIX : READS, o, kv, stopped)));
}

async function client(
  id: number,
  rng: Rng,
  keys: string[],
  mix: Record<OpKind, number>,
  o: WorkloadOptions,
  kv: KvClientOptions,
  stopped: () => boolean,
): Promise<void> {
  // What this client last saw in each key: a cas that expects it has a fair chance to succeed.
  const seen = new Map<string, string | null>();
  for (let seq = 0; !stopped(); seq++) {
    const kind = rng.weighted(mix);
    const key = rng.pick(keys);
    const value = `c${id}.${seq}`;
    const op =
      kind === 'get'
        ? kv.recorder.invoke(id, 'workload', 'get', key)
        : kind === 'put'
          ? kv.recorder.invoke(id, 'workload', 'put', key, { value })
          : kind === 'delete'
            ? kv.recorder.invoke(id, 'workload', 'delete', key)
            : kv.recorder.invoke(id, 'workload', 'cas', key, { value, expected: rng.next() < 0.85 ? (seen.get(key) ?? null) : `c${id}.never` });
    if (kind === 'get') op.consistency = o.readConsistency;
    await execute(op, kv);
    if (op.status !== 'ok') continue;
    if (kind === 'get') seen.set(key, op.result?.value ?? null);
    else if (kind === 'put' || (kind === 'cas' && op.result?.succeeded)) seen.set(key, value);
    else if (kind === 'delete') seen.set(key, null);
  }
}
