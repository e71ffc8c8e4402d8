import { packr } from './msgpack';
import type { KvEffect } from './types';

/** Everything a KvStateMachine is, as plain data. `data` sorted by key; `sessions` in applied order. */
export interface KvSnapshotState {
  appliedRevision: number;
  latestTs: number;
  data: Array<{ key: string; value: string; revision: number }>;
  /** fingerprint: the first request's (undefined when it had none). */
  sessions: Array<{ id: string; ts: number; result: KvEffect; fingerprint?: string }>;
}

/**
 * MessagePack array: [MAGIC, VERSION, appliedRevision, latestTs, [key, value, revision, ...],
 * [id, ts, result, fingerprint | nil, ...]] with result = [0, key, value, rev] |
 * [1, key, deleted, rev] | [2, key, succeeded, value | nil, rev]. Flat arrays keep it compact. The
 * encoding is canonical (a function of the state alone), so its hash is the state's digest.
 * Version 1 had no fingerprint ([id, ts, result, ...]); it is still read, never written.
 */
const MAGIC = 'synod-kv';
const VERSION = 2;
/** Elements per session in the flat array, by version. */
const SESSION_WIDTH: Record<number, number> = { 1: 3, 2: 4 };

function resultTuple(r: KvEffect): unknown[] {
  switch (r.op) {
    case 'put':
      return [0, r.key, r.value, r.revision];
    case 'delete':
      return [1, r.key, r.deleted, r.revision];
    case 'cas':
      return [2, r.key, r.succeeded, r.value, r.revision];
  }
}

export function encodeSnapshot(s: KvSnapshotState): Uint8Array {
  const data: unknown[] = new Array(s.data.length * 3);
  let i = 0;
  for (const d of s.data) {
    data[i++] = d.key;
    data[i++] = d.value;
    data[i++] = d.revision;
  }
  const sessions: unknown[] = new Array(s.sessions.length * 4);
  i = 0;
  for (const x of s.sessions) {
    sessions[i++] = x.id;
    sessions[i++] = x.ts;
    sessions[i++] = resultTuple(x.result);
    sessions[i++] = x.fingerprint ?? null;
  }
  return packr.pack([MAGIC, VERSION, s.appliedRevision, s.latestTs, data, sessions]);
}

function fail(what: string): never {
  throw new Error(`malformed KV snapshot: ${what}`);
}

const isRevision = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function decodeResult(t: unknown, appliedRevision: number): KvEffect {
  if (!Array.isArray(t)) fail('session result is not an array');
  const rev = t[t.length - 1];
  if (!isRevision(rev) || rev < 1 || rev > appliedRevision) fail('session result revision out of range');
  const key = t[1];
  if (typeof key !== 'string') fail('session result key is not a string');
  if (t[0] === 0 && t.length === 4 && typeof t[2] === 'string') {
    return { op: 'put', key, value: t[2], revision: rev };
  }
  if (t[0] === 1 && t.length === 4 && typeof t[2] === 'boolean') {
    return { op: 'delete', key, deleted: t[2], revision: rev };
  }
  if (t[0] === 2 && t.length === 5 && typeof t[2] === 'boolean' && (t[3] === null || typeof t[3] === 'string')) {
    return { op: 'cas', key, succeeded: t[2], value: t[3], revision: rev };
  }
  return fail(`bad session result of kind ${String(t[0])}`);
}

/** Decodes and checks the structure (a snapshot may come from another replica); throws on anything off. */
export function decodeSnapshot(bytes: Uint8Array): KvSnapshotState {
  let root: unknown;
  try {
    root = packr.unpack(bytes);
  } catch (e) {
    fail(`not MessagePack (${(e as Error).message})`);
  }
  if (!Array.isArray(root) || root.length !== 6 || root[0] !== MAGIC) fail('not a KV snapshot');
  const width = typeof root[1] === 'number' ? SESSION_WIDTH[root[1]] : undefined;
  if (width === undefined) fail(`unsupported version ${String(root[1])}`);
  const [, , appliedRevision, latestTs, flatData, flatSessions] = root as unknown[];
  if (!isRevision(appliedRevision)) fail('appliedRevision');
  if (!isTs(latestTs)) fail('latestTs');
  if (!Array.isArray(flatData) || flatData.length % 3 !== 0) fail('data');
  if (!Array.isArray(flatSessions) || flatSessions.length % width !== 0) fail('sessions');

  const data: KvSnapshotState['data'] = [];
  let prevKey: string | null = null;
  for (let i = 0; i < flatData.length; i += 3) {
    const key: unknown = flatData[i];
    const value: unknown = flatData[i + 1];
    const revision: unknown = flatData[i + 2];
    if (typeof key !== 'string' || typeof value !== 'string') fail(`data entry ${i / 3} is not strings`);
    if (prevKey !== null && !(prevKey < key)) fail('data keys not strictly sorted');
    if (!isRevision(revision) || revision < 1 || revision > appliedRevision) fail(`revision of key ${JSON.stringify(key)}`);
    data.push({ key, value, revision });
    prevKey = key;
  }

  const sessions: KvSnapshotState['sessions'] = [];
  for (let i = 0; i < flatSessions.length; i += width) {
    const id: unknown = flatSessions[i];
    const ts: unknown = flatSessions[i + 1];
    if (typeof id !== 'string') fail(`session ${i / width} id`);
    if (!isTs(ts)) fail(`session ${i / width} ts`);
    const session: KvSnapshotState['sessions'][number] = { id, ts, result: decodeResult(flatSessions[i + 2], appliedRevision) };
    if (width === 4) {
      const fp: unknown = flatSessions[i + 3];
      if (fp !== null && (typeof fp !== 'string' || fp === '')) fail(`session ${i / width} fingerprint`);
      if (fp !== null) session.fingerprint = fp;
    }
    sessions.push(session);
  }
  return { appliedRevision, latestTs, data, sessions };
}
