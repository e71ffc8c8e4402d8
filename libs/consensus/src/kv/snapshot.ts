import { packr } from './msgpack';
import { parseRequestId } from './sessions';
import type { LeaseRecord } from './leases';
import { decodeTopicResult, decodeTopics, encodeTopics, topicResultTuple, type TopicRecord } from './topic-snapshot';
import type { KvEffect, KvEvent, KvItem, TxnOpResult } from './types';

/** One client's session: its highest executed seq and the results it still remembers, by ascending seq. */
export interface KvSnapshotSession {
  client: string;
  maxSeq: number;
  results: Array<{ seq: number; result: KvEffect; fingerprint?: string }>;
}

/** Everything a KvStateMachine is, as plain data. `data` sorted by key; `sessions` least recently active first. */
export interface KvSnapshotState {
  appliedRevision: number;
  data: Array<{ key: string; value: string; revision: number; createRevision: number; version: number; lease?: string }>;
  sessions: KvSnapshotSession[];
  /** 16-hex-digit hashes of dropped clients (sessions.ts), sorted. */
  tombstones: string[];
  /** The history (history.ts): every change above compactRevision, in revision order. */
  compactRevision: number;
  history: KvEvent[];
  /** Sorted by id. */
  leases: LeaseRecord[];
  /** Sorted by name (topics.ts). */
  topics: TopicRecord[];
}

/**
 * MessagePack array: [MAGIC, 6, appliedRevision, [key, value, revision, createRevision, version,
 * lease | nil, ...], [client, maxSeq, [seq, result, fingerprint | nil, ...], ...], tombstones,
 * compactRevision, [key, revision, value | nil, createRevision, version, prevValue | nil,
 * prevModRevision, prevCreateRevision, prevVersion, ...], [leaseId, ttlSeconds, renewedAt, [voter,
 * ...], ...], topics (topic-snapshot.ts)] with result = [0, key, value, rev] | [1, key, deleted, rev] | [2, key, succeeded, value
 * | nil, rev] | [3, succeeded, [txn op result maps], rev] | [4, compactRevision, rev] | [5, op,
 * leaseId, ttlSeconds | deletedKeys | nil, found | expired | nil, rev] (lease ops) | [6, op, ...] (topic ops, topic-snapshot.ts), tombstones the 8-byte hashes concatenated in sort order, and a history
 * event without a previous state having nil and zeros for it. Flat arrays keep it compact. The
 * encoding is canonical (a function of the state alone), so its hash is the state's digest.
 * Version 5 (no topics) is read as having none. Version 4 (no history: compactRevision = appliedRevision, so reads in the past before it say
 * compacted), version 3 (data as [key, value, revision, ...]) and versions 1 and 2 (per-request sessions
 * expired by proposer time: [MAGIC, v, appliedRevision, latestTs, data, [id, ts, result,
 * (fingerprint | nil)?, ...]]) are still read, never written: their keys get createRevision =
 * revision and version 1 (what they did not record is not invented).
 */
const MAGIC = 'synod-kv';
const VERSION = 6;
const EVENT_WIDTH = 9;
const LEASE_WIDTH = 4;
const TOMBSTONE_BYTES = 8;

function resultTuple(r: KvEffect): unknown[] {
  switch (r.op) {
    case 'put':
      return [0, r.key, r.value, r.revision];
    case 'delete':
      return [1, r.key, r.deleted, r.revision];
    case 'cas':
      return [2, r.key, r.succeeded, r.value, r.revision];
    case 'txn':
      return [3, r.succeeded, r.results, r.revision];
    case 'compact':
      return [4, r.compactRevision, r.revision];
    case 'lease-grant':
      return [5, r.op, r.id, r.ttlSeconds, null, r.revision];
    case 'lease-keepalive':
      return [5, r.op, r.id, r.ttlSeconds, r.found, r.revision];
    case 'lease-revoke':
      return [5, r.op, r.id, r.deleted, r.found, r.revision];
    case 'lease-expire':
      return [5, r.op, r.id, r.deleted, r.expired, r.revision];
    case 'no-lease':
      return [5, r.op, r.id, null, null, r.revision];
    case 'topic-publish':
    case 'topic-fetch':
    case 'topic-ack':
    case 'topic-nack':
      return topicResultTuple(r);
  }
}

function flatten<T>(xs: readonly T[], width: number, put: (x: T, out: unknown[], at: number) => void): unknown[] {
  const out: unknown[] = new Array(xs.length * width);
  xs.forEach((x, i) => put(x, out, i * width));
  return out;
}

export function encodeSnapshot(s: KvSnapshotState): Uint8Array {
  const data = flatten(s.data, 6, (d, out, i) => {
    out[i] = d.key;
    out[i + 1] = d.value;
    out[i + 2] = d.revision;
    out[i + 3] = d.createRevision;
    out[i + 4] = d.version;
    out[i + 5] = d.lease ?? null;
  });
  const sessions = flatten(s.sessions, 3, (x, out, i) => {
    out[i] = x.client;
    out[i + 1] = x.maxSeq;
    out[i + 2] = flatten(x.results, 3, (r, o, j) => {
      o[j] = r.seq;
      o[j + 1] = resultTuple(r.result);
      o[j + 2] = r.fingerprint ?? null;
    });
  });
  const tombstones = Buffer.from(s.tombstones.join(''), 'hex');
  const history = flatten(s.history, EVENT_WIDTH, (e, out, i) => {
    out[i] = e.key;
    out[i + 1] = e.revision;
    out[i + 2] = e.value;
    out[i + 3] = e.createRevision;
    out[i + 4] = e.version;
    out[i + 5] = e.prev?.value ?? null;
    out[i + 6] = e.prev?.modRevision ?? 0;
    out[i + 7] = e.prev?.createRevision ?? 0;
    out[i + 8] = e.prev?.version ?? 0;
  });
  const leases = flatten(s.leases, LEASE_WIDTH, (l, out, i) => {
    out[i] = l.id;
    out[i + 1] = l.ttlSeconds;
    out[i + 2] = l.renewedAt;
    out[i + 3] = l.votes;
  });
  return packr.pack([MAGIC, VERSION, s.appliedRevision, data, sessions, tombstones, s.compactRevision, history, leases, encodeTopics(s.topics)]);
}

function fail(what: string): never {
  throw new Error(`malformed KV snapshot: ${what}`);
}

const isRevision = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function decodeResult(t: unknown, appliedRevision: number): KvEffect {
  if (!Array.isArray(t)) fail('session result is not an array');
  const rev = t[t.length - 1];
  if (!isRevision(rev) || rev < 1 || rev > appliedRevision) fail('session result revision out of range');
  if (t[0] === 3 && t.length === 4 && typeof t[1] === 'boolean' && Array.isArray(t[2])) {
    return { op: 'txn', succeeded: t[1], results: t[2].map((x) => decodeTxnOpResult(x, rev)), revision: rev };
  }
  if (t[0] === 4 && t.length === 3 && isRevision(t[1]) && t[1] < rev) return { op: 'compact', compactRevision: t[1], revision: rev };
  if (t[0] === 5 && t.length === 6 && typeof t[2] === 'string') return decodeLeaseResult(t, rev);
  if (t[0] === 6) return decodeTopicResult(t, rev);
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

function decodeItem(x: unknown, rev: number): KvItem {
  const i = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
  const { key, value, revision, createRevision, version, lease } = i;
  if (typeof key !== 'string' || typeof value !== 'string') fail('txn item');
  if (!isRevision(revision) || revision > rev || !isRevision(createRevision) || createRevision > revision || !isRevision(version) || version < 1)
    fail('txn item revisions');
  if (lease !== undefined && (typeof lease !== 'string' || lease === '')) fail('txn item lease');
  // Field by field in KvItem's order, the lease last when there is one: the bytes must be the ones encoded.
  const item: KvItem = { key, value, revision, createRevision, modRevision: revision, version };
  if (lease !== undefined) item.lease = lease as string;
  return item;
}

/** A transaction op's result, rebuilt field by field (canonical bytes, nothing stray kept). */
function decodeTxnOpResult(x: unknown, rev: number): TxnOpResult {
  const r = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
  const key = r.key;
  if (r.op === 'put' && typeof key === 'string' && r.revision === rev) return { op: 'put', key, revision: rev };
  if (r.op === 'delete' && typeof key === 'string' && typeof r.deleted === 'boolean' && r.revision === rev)
    return { op: 'delete', key, deleted: r.deleted, revision: rev };
  if (r.op === 'get' && typeof key === 'string') return { op: 'get', key, item: r.item === null ? null : decodeItem(r.item, rev) };
  if (r.op === 'range' && typeof r.prefix === 'string' && Array.isArray(r.items))
    return { op: 'range', prefix: r.prefix, items: r.items.map((it) => decodeItem(it, rev)) };
  return fail('txn op result');
}

function decodeLeaseResult(t: unknown[], rev: number): KvEffect {
  const [, op, id, a, b] = t as [number, unknown, string, unknown, unknown];
  const keys = (v: unknown): string[] => (Array.isArray(v) && v.every((k) => typeof k === 'string') ? v : fail('lease result keys'));
  if (op === 'lease-grant' && isRevision(a) && b === null) return { op, id, ttlSeconds: a, revision: rev };
  if (op === 'lease-keepalive' && isRevision(a) && typeof b === 'boolean') return { op, id, ttlSeconds: a, found: b, revision: rev };
  if (op === 'lease-revoke' && typeof b === 'boolean') return { op, id, deleted: keys(a), found: b, revision: rev };
  if (op === 'lease-expire' && typeof b === 'boolean') return { op, id, deleted: keys(a), expired: b, revision: rev };
  if (op === 'no-lease' && a === null && b === null) return { op, id, revision: rev };
  return fail(`bad lease result ${String(op)}`);
}

function decodeLeases(flat: unknown): LeaseRecord[] {
  if (!Array.isArray(flat) || flat.length % LEASE_WIDTH !== 0) fail('leases');
  const leases: LeaseRecord[] = [];
  for (let i = 0; i < flat.length; i += LEASE_WIDTH) {
    const [id, ttlSeconds, renewedAt, votes] = flat.slice(i, i + LEASE_WIDTH) as unknown[];
    if (typeof id !== 'string' || (leases.length > 0 && !(leases[leases.length - 1].id < id))) fail('lease ids not strictly sorted');
    if (!isRevision(ttlSeconds) || ttlSeconds < 1 || !isRevision(renewedAt)) fail(`lease ${id}`);
    if (!Array.isArray(votes) || !votes.every((v, j) => typeof v === 'string' && (j === 0 || votes[j - 1] < v))) fail(`lease ${id} votes`);
    leases.push({ id, ttlSeconds, renewedAt, votes: votes as string[] });
  }
  return leases;
}

/** Decodes and checks the structure (a snapshot may come from another replica); throws on anything off. */
export function decodeSnapshot(bytes: Uint8Array): KvSnapshotState {
  let root: unknown;
  try {
    root = packr.unpack(bytes);
  } catch (e) {
    fail(`not MessagePack (${(e as Error).message})`);
  }
  if (!Array.isArray(root) || root[0] !== MAGIC) fail('not a KV snapshot');
  if (root[1] === VERSION && root.length === 10) {
    const s = { ...decodeV3(root, 6), ...decodeHistory(root[6], root[7], root[2]), leases: decodeLeases(root[8]) };
    return { ...s, topics: decodeTopics(root[9]) };
  }
  if (root[1] === 5 && root.length === 9) return { ...decodeV3(root, 6), ...decodeHistory(root[6], root[7], root[2]), leases: decodeLeases(root[8]) };
  if ((root[1] === 4 || root[1] === 3) && root.length === 6) return decodeV3(root, root[1] === 4 ? 5 : 3);
  if ((root[1] === 1 || root[1] === 2) && root.length === 6) return decodeLegacy(root, root[1] === 1 ? 3 : 4);
  return fail(`unsupported version ${String(root[1])}`);
}

function decodeHistory(compactRevision: unknown, flat: unknown, appliedRevision: unknown): Pick<KvSnapshotState, 'compactRevision' | 'history'> {
  if (!isRevision(compactRevision) || !isRevision(appliedRevision) || compactRevision > appliedRevision) fail('compactRevision');
  if (!Array.isArray(flat) || flat.length % EVENT_WIDTH !== 0) fail('history');
  const history: KvEvent[] = [];
  let prevRevision = compactRevision;
  for (let i = 0; i < flat.length; i += EVENT_WIDTH) {
    const [key, revision, value, createRevision, version, prevValue, prevMod, prevCreate, prevVersion] = flat.slice(i, i + EVENT_WIDTH) as unknown[];
    const where = `history event ${i / EVENT_WIDTH}`;
    if (typeof key !== 'string' || (value !== null && typeof value !== 'string')) fail(where);
    if (!isRevision(revision) || revision < prevRevision || revision <= compactRevision || revision > appliedRevision) fail(`${where} revision`);
    if (!isRevision(createRevision) || !isRevision(version) || (value === null) !== (version === 0) || createRevision > revision) fail(`${where} version`);
    if (prevValue !== null && typeof prevValue !== 'string') fail(`${where} prev`);
    if (!isRevision(prevMod) || !isRevision(prevCreate) || !isRevision(prevVersion) || prevMod >= revision) fail(`${where} prev revisions`);
    const prev = prevValue === null ? null : { value: prevValue, modRevision: prevMod, createRevision: prevCreate, version: prevVersion };
    history.push({ key, revision, value: value as string | null, createRevision, version, prev });
    prevRevision = revision;
  }
  return { compactRevision, history };
}

/** `width` 6: [key, value, revision, createRevision, version, lease | nil, ...] (v5); 5: without the lease (v4); 3: [key, value, revision, ...] (v1-v3). */
function decodeData(flat: unknown, appliedRevision: number, width: 3 | 5 | 6): KvSnapshotState['data'] {
  if (!Array.isArray(flat) || flat.length % width !== 0) fail('data');
  const data: KvSnapshotState['data'] = [];
  let prevKey: string | null = null;
  for (let i = 0; i < flat.length; i += width) {
    const key: unknown = flat[i];
    const value: unknown = flat[i + 1];
    const revision: unknown = flat[i + 2];
    const createRevision: unknown = width >= 5 ? flat[i + 3] : revision;
    const version: unknown = width >= 5 ? flat[i + 4] : 1;
    const lease: unknown = width === 6 ? flat[i + 5] : null;
    if (lease !== null && (typeof lease !== 'string' || lease === '')) fail(`lease of key ${JSON.stringify(key)}`);
    if (typeof key !== 'string' || typeof value !== 'string') fail(`data entry ${i / width} is not strings`);
    if (prevKey !== null && !(prevKey < key)) fail('data keys not strictly sorted');
    if (!isRevision(revision) || revision < 1 || revision > appliedRevision) fail(`revision of key ${JSON.stringify(key)}`);
    if (!isRevision(createRevision) || createRevision < 1 || createRevision > revision) fail(`createRevision of key ${JSON.stringify(key)}`);
    if (!isRevision(version) || version < 1) fail(`version of key ${JSON.stringify(key)}`);
    data.push({ key, value, revision, createRevision, version, ...(lease === null ? {} : { lease: lease as string }) });
    prevKey = key;
  }
  return data;
}

function decodeFingerprint(fp: unknown, where: string): string | undefined {
  if (fp === null) return undefined;
  if (typeof fp !== 'string' || fp === '') fail(`${where} fingerprint`);
  return fp;
}

function decodeV3(root: unknown[], dataWidth: 3 | 5 | 6): KvSnapshotState {
  const [, , appliedRevision, flatData, flatSessions, flatTombstones] = root;
  if (!isRevision(appliedRevision)) fail('appliedRevision');
  const data = decodeData(flatData, appliedRevision, dataWidth);
  if (!Array.isArray(flatSessions) || flatSessions.length % 3 !== 0) fail('sessions');
  const sessions: KvSnapshotSession[] = [];
  const clients = new Set<string>();
  for (let i = 0; i < flatSessions.length; i += 3) {
    const [client, maxSeq, flatResults] = flatSessions.slice(i, i + 3) as unknown[];
    const where = `session ${i / 3}`;
    if (typeof client !== 'string' || clients.has(client)) fail(`${where} client`);
    if (!isRevision(maxSeq)) fail(`${where} maxSeq`);
    if (!Array.isArray(flatResults) || flatResults.length % 3 !== 0 || flatResults.length === 0) fail(`${where} results`);
    const results: KvSnapshotSession['results'] = [];
    for (let j = 0; j < flatResults.length; j += 3) {
      const seq: unknown = flatResults[j];
      if (!isRevision(seq) || seq > maxSeq || (results.length > 0 && seq <= results[results.length - 1].seq)) fail(`${where} seq`);
      const fingerprint = decodeFingerprint(flatResults[j + 2], where);
      results.push({ seq, result: decodeResult(flatResults[j + 1], appliedRevision), ...(fingerprint === undefined ? {} : { fingerprint }) });
    }
    clients.add(client);
    sessions.push({ client, maxSeq, results });
  }
  if (!(flatTombstones instanceof Uint8Array) || flatTombstones.length % TOMBSTONE_BYTES !== 0) fail('tombstones');
  const hex = Buffer.from(flatTombstones).toString('hex');
  const tombstones: string[] = [];
  for (let i = 0; i < hex.length; i += TOMBSTONE_BYTES * 2) {
    const t = hex.slice(i, i + TOMBSTONE_BYTES * 2);
    if (tombstones.length > 0 && !(tombstones[tombstones.length - 1] < t)) fail('tombstones not strictly sorted');
    tombstones.push(t);
  }
  // Before version 5 there was no history: it starts at the snapshot (reads before it are compacted).
  return { appliedRevision, data, sessions, tombstones, compactRevision: appliedRevision, history: [], leases: [], topics: [] };
}

/** Versions 1 and 2: one session per request id, in applied order; regrouped by client (sessions.ts). */
function decodeLegacy(root: unknown[], width: number): KvSnapshotState {
  const [, , appliedRevision, latestTs, flatData, flatSessions] = root;
  if (!isRevision(appliedRevision)) fail('appliedRevision');
  if (typeof latestTs !== 'number' || !Number.isFinite(latestTs) || latestTs < 0) fail('latestTs');
  const data = decodeData(flatData, appliedRevision, 3);
  if (!Array.isArray(flatSessions) || flatSessions.length % width !== 0) fail('sessions');
  const byClient = new Map<string, KvSnapshotSession>();
  const ids = new Set<string>();
  let prevRevision = 0;
  for (let i = 0; i < flatSessions.length; i += width) {
    const id: unknown = flatSessions[i];
    const where = `session ${i / width}`;
    if (typeof id !== 'string' || ids.has(id)) fail(`${where} id`);
    const result = decodeResult(flatSessions[i + 2], appliedRevision);
    if (!(result.revision > prevRevision)) fail('sessions not in applied order');
    prevRevision = result.revision;
    const fingerprint = width === 4 ? decodeFingerprint(flatSessions[i + 3], where) : undefined;
    ids.add(id);
    const { client, seq } = parseRequestId(id);
    const s = byClient.get(client) ?? { client, maxSeq: 0, results: [] };
    byClient.delete(client); // re-inserted last: most recently active
    byClient.set(client, s);
    s.maxSeq = Math.max(s.maxSeq, seq);
    s.results.push({ seq, result, ...(fingerprint === undefined ? {} : { fingerprint }) });
  }
  for (const s of byClient.values()) s.results.sort((a, b) => a.seq - b.seq);
  return { appliedRevision, data, sessions: [...byClient.values()], tombstones: [], compactRevision: appliedRevision, history: [], leases: [], topics: [] };
}
