import { createHash } from 'node:crypto';
import { packr } from '../kv/msgpack';
import type { ClientRequest, PbftConfiguration } from './types';

/** Executed timestamps remembered per client: a client may have this many requests in flight. */
export const CLIENT_WINDOW = 64;
/** Clients remembered at most; the one that executed least recently is forgotten first. */
export const MAX_CLIENTS = 1024;

/** [client, executed timestamps, their results, last seq]. */
export type ClientTableEntry = [string, number[], Uint8Array[], number];

interface ClientEntry {
  /** Executed timestamps, ascending, the last CLIENT_WINDOW. */
  ts: number[];
  /** The result of each, same order: a retransmitted request gets its first answer again. */
  results: Uint8Array[];
  /** The sequence number of its last executed request (orders eviction, deterministically). */
  lastSeq: number;
}

/**
 * Castro & Liskov §4.1: per client, the timestamps already executed — replicated state, in every
 * checkpoint's digest and snapshot, so every correct replica decides alike. A request whose
 * timestamp was executed, or that is older than the client's whole window, is never executed
 * again, whoever orders it: a Byzantine primary re-proposing, or a backup forwarding, an old
 * request achieves nothing. The window (not C&L's single timestamp) lets a client pipeline
 * requests that a view change may reorder.
 */
export class ClientTable {
  private readonly clients = new Map<string, ClientEntry>();

  /** The first result of an executed request still in its client's window. */
  resultOf(r: Pick<ClientRequest, 'client' | 'ts'>): Uint8Array | undefined {
    const e = this.clients.get(r.client);
    const i = e === undefined ? -1 : e.ts.indexOf(r.ts);
    return i < 0 ? undefined : e!.results[i];
  }

  /** Already executed, or older than everything the client's window still holds. */
  stale(r: Pick<ClientRequest, 'client' | 'ts'>): boolean {
    const e = this.clients.get(r.client);
    if (e === undefined) return false;
    if (e.ts.length >= CLIENT_WINDOW && r.ts <= e.ts[0]) return true;
    return e.ts.includes(r.ts);
  }

  record(r: Pick<ClientRequest, 'client' | 'ts'>, seq: number, result: Uint8Array): void {
    let e = this.clients.get(r.client);
    if (e === undefined) {
      if (this.clients.size >= MAX_CLIENTS) this.evictOne();
      e = { ts: [], results: [], lastSeq: seq };
      this.clients.set(r.client, e);
    }
    let i = e.ts.length;
    while (i > 0 && e.ts[i - 1] > r.ts) i--;
    e.ts.splice(i, 0, r.ts);
    e.results.splice(i, 0, result);
    if (e.ts.length > CLIENT_WINDOW) {
      e.ts.shift();
      e.results.shift();
    }
    e.lastSeq = seq;
  }

  /** Canonical form: clients by id. */
  entries(): ClientTableEntry[] {
    return [...this.clients.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, e]) => [id, e.ts.slice(), e.results.slice(), e.lastSeq]);
  }

  load(entries: ClientTableEntry[]): void {
    this.clients.clear();
    for (const [id, ts, results, lastSeq] of entries) this.clients.set(id, { ts: ts.slice(), results: results.map((b) => Uint8Array.from(b)), lastSeq });
  }

  get size(): number {
    return this.clients.size;
  }

  digest(): string {
    return createHash('sha256').update(packr.pack(this.entries())).digest('hex');
  }

  private evictOne(): void {
    let victim: string | null = null;
    let oldest = Infinity;
    for (const [id, e] of this.clients) {
      if (e.lastSeq < oldest || (e.lastSeq === oldest && victim !== null && id < victim)) {
        oldest = e.lastSeq;
        victim = id;
      }
    }
    if (victim !== null) this.clients.delete(victim);
  }
}

const STATE_MARK = 'pbft-state/1';

/**
 * A checkpoint's state: the app's snapshot, the client table and the ledger head at the checkpoint
 * (libs/consensus/src/ledger: it is replicated state, in the checkpoint digest). A snapshot from
 * before the ledger has three members and no head; one from before the client table is the app's alone.
 */
export function packState(app: Uint8Array, clients: ClientTable, ledgerHead: string | null = null, configs: readonly PbftConfiguration[] = []): Uint8Array {
  // Once the replica set changed (epoch > 0), the configurations follow as a fifth member (reconfiguration.ts).
  const latest = configs[configs.length - 1];
  if (latest !== undefined && latest.epoch > 0)
    return packr.pack([STATE_MARK, app, clients.entries(), ledgerHead, configs.map((c) => [c.epoch, c.since, c.replicas])]);
  return packr.pack(ledgerHead === null ? [STATE_MARK, app, clients.entries()] : [STATE_MARK, app, clients.entries(), ledgerHead]);
}

export function unpackState(bytes: Uint8Array): { app: Uint8Array; clients: ClientTableEntry[]; ledgerHead: string | null; configs: PbftConfiguration[] } {
  try {
    const v = packr.unpack(bytes) as unknown;
    if (Array.isArray(v) && v.length >= 3 && v.length <= 5 && v[0] === STATE_MARK) {
      const head = v.length >= 4 && typeof v[3] === 'string' && /^[0-9a-f]{64}$/.test(v[3]) ? v[3] : null;
      const configs =
        v.length === 5 ? (v[4] as [number, number, string[]][]).map(([epoch, since, replicas]) => ({ epoch, since, replicas: [...replicas] })) : [];
      return { app: v[1] as Uint8Array, clients: v[2] as ClientTableEntry[], ledgerHead: head, configs };
    }
  } catch {
    // not ours: an app snapshot as stored before the client table existed
  }
  return { app: bytes, clients: [], ledgerHead: null, configs: [] };
}
