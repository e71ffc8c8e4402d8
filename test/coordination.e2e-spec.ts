import { type ClientRequest, get as httpGet } from 'node:http';
import { performance } from 'node:perf_hooks';
import { checkLinearizable, type HistoryOp } from '@app/history';
import { clusterForSuite, type HttpResult, type TestCluster, waitFor } from './support/cluster';

/**
 * The coordination API against real clusters (Raft 3 nodes, PBFT 4 nodes): watches that lose no
 * change and repeat none through faults (a leader/primary kill, a SIGKILLed gateway, dropped
 * connections resumed with Last-Event-ID), transactions that keep a bank's invariant under
 * contention and a failover, compaction, and reads in the past.
 */

const PROTOCOLS = [
  { protocol: 'raft', nodes: 3 },
  { protocol: 'pbft', nodes: 4 },
] as const;

/** Answers a retry with the same Idempotency-Key may replace: the request may or may not have been applied. */
const RETRYABLE = new Set([502, 503, 504]);

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const kv = (key: string): string => `/v1/kv/${encodeURIComponent(key)}`;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];

/**
 * `method path` until it gets an answer other than 502/503/504 or a dropped connection (every
 * attempt with the same Idempotency-Key, so it is applied at most once); throws unless the answer's
 * status is in `ok`.
 */
async function answered(c: TestCluster, method: string, path: string, body?: unknown, idempotencyKey?: string, ok = [200]): Promise<HttpResult> {
  const headers: Record<string, string> = idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey };
  const r = await waitFor(
    async () => {
      const res = await c.http(method, path, body, headers).catch(() => null);
      return res !== null && !RETRYABLE.has(res.status) ? res : null;
    },
    90_000,
    `an answer to ${method} ${path}`,
  );
  if (!ok.includes(r.status)) throw new Error(`${method} ${path} ${JSON.stringify(body)}: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

/** A GET that may answer 200, 404 or 410 (over 502/503/504 it is asked again). */
const read = (c: TestCluster, path: string): Promise<HttpResult> => answered(c, 'GET', path, undefined, undefined, [200, 404, 410]);

// ---------------------------------------------------------------------------------------------
// Faults

/** Asks for `action` on `id` until one call is answered 200 and the cluster state shows `effect`. */
async function adminUntil(c: TestCluster, id: string, action: 'kill' | 'revive', effect: (s: any) => boolean): Promise<void> {
  let done = false;
  await waitFor(
    async () => {
      if (!done) done = (await c.admin(id, action)).status === 200;
      return done && effect(await c.clusterState());
    },
    60_000,
    `${action} of ${id} to show`,
  );
}

/** Kills the leader (Raft) or primary (PBFT) through the admin API; returns once another one leads. */
async function killLeader(c: TestCluster): Promise<string> {
  const leader = await c.waitForLeader([], 60_000);
  await adminUntil(c, leader, 'kill', (s) => !!s.leader && s.leader !== leader);
  return leader;
}

async function revive(c: TestCluster, id: string): Promise<void> {
  await adminUntil(c, id, 'revive', (s) => s.nodes.some((n: any) => n.id === id && n.alive));
}

async function gatewayPid(c: TestCluster): Promise<number> {
  return (await c.http('GET', '/health/live')).body.pid as number;
}

/** SIGKILLs the gateway process; returns when the launcher's restart of it answers (another pid). */
async function killGateway(c: TestCluster): Promise<{ killedAt: number; oldPid: number; newPid: number }> {
  const oldPid = await gatewayPid(c);
  expect(Number.isInteger(oldPid) && oldPid > 1).toBe(true);
  process.kill(oldPid, 'SIGKILL');
  const killedAt = Date.now();
  const newPid = await waitFor(
    async () => {
      const pid = await gatewayPid(c);
      return pid !== oldPid ? pid : null;
    },
    60_000,
    'the gateway restarted by the launcher',
  );
  return { killedAt, oldPid, newPid };
}

// ---------------------------------------------------------------------------------------------
// A small Server-Sent Events client for GET /v1/watch

interface Frame {
  id: number | undefined;
  event: string;
  data: any;
}

/** One connection of a Watch: when, the Last-Event-ID it sent, its first frame's event. */
interface Connection {
  at: number;
  lastEventId?: number;
  first?: string;
}

interface Change {
  revision: number;
  key: string;
  value: string | null;
  event: string;
  prevValue?: string;
}

/** One `id/event/data` block of a text/event-stream (data lines joined with \n). */
function parseFrame(block: string): Frame | null {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  return { id: id === undefined ? undefined : Number(id), event, data: JSON.parse(data.join('\n')) };
}

/**
 * A watch that reconnects with Last-Event-ID whenever its stream ends (a dropped connection, a
 * restarted gateway) until stop(). Its resume point moves only over whole revisions: the changes of
 * the newest revision stay pending until a later revision or a progress event shows that revision
 * complete, and a stream that ends drops them (the resume asks for them again).
 */
class Watch {
  readonly changes: Change[] = [];
  readonly connections: Connection[] = [];
  /** Non-200 answers to (re)connects: 503/504 are expected during faults. */
  readonly refusals: string[] = [];
  /** What must not happen (asserted empty). */
  readonly problems: string[] = [];
  progress = 0;
  private pending: Change[] = [];
  private resumeId: number | undefined;
  private lastFrameId = -1;
  private req: ClientRequest | undefined;
  private stopped = false;
  private pausedUntil = 0;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly base: string,
    private readonly query: string,
  ) {}

  /** Connects; returns once the first connection's first frame arrived. */
  async start(): Promise<this> {
    this.loop = this.run();
    await waitFor(async () => this.connections[0]?.first !== undefined, 60_000, `watch ?${this.query}`);
    return this;
  }

  /** Drops the connection (as a network fault would), reconnecting after `pauseMs`. */
  drop(pauseMs: number): void {
    this.pausedUntil = Date.now() + pauseMs;
    this.req?.destroy();
  }

  has(revision: number, key: string): boolean {
    return [...this.changes, ...this.pending].some((ch) => ch.revision === revision && ch.key === key);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.flush();
    this.req?.destroy();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const wait = this.pausedUntil - Date.now();
      if (wait > 0) await pause(wait);
      if (this.stopped) break;
      await this.connectOnce();
      this.pending = [];
      if (!this.stopped) await pause(100);
    }
  }

  private connectOnce(): Promise<void> {
    return new Promise<void>((resolve) => {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (this.resumeId !== undefined) headers['last-event-id'] = String(this.resumeId);
      const req = httpGet(`${this.base}/v1/watch?${this.query}`, { headers }, (res) => {
        res.setEncoding('utf8');
        res.on('error', () => undefined);
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (d: string) => (body += d));
          res.on('close', () => {
            this.refusals.push(`${res.statusCode} ${body}`);
            if (!RETRYABLE.has(res.statusCode ?? 0)) this.problems.push(`reconnect refused: ${res.statusCode} ${body}`);
            resolve();
          });
          return;
        }
        const conn: Connection = { at: Date.now(), lastEventId: this.resumeId };
        this.connections.push(conn);
        this.lastFrameId = -1;
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const frame = parseFrame(buf.slice(0, i));
            buf = buf.slice(i + 2);
            if (frame === null) continue;
            conn.first ??= frame.event;
            this.onFrame(frame);
          }
        });
        res.on('close', () => resolve());
      });
      req.on('error', () => resolve());
      this.req = req;
    });
  }

  private onFrame(f: Frame): void {
    if (f.id !== undefined) {
      if (f.id < this.lastFrameId) this.problems.push(`id ${f.id} after ${this.lastFrameId} in one stream`);
      this.lastFrameId = f.id;
    }
    if (f.event === 'progress') {
      if (f.id === undefined || f.data.revision !== f.id) this.problems.push(`progress ${JSON.stringify(f)}`);
      this.flush();
      this.resumeId = f.id;
      this.progress++;
      return;
    }
    if (f.event !== 'put' && f.event !== 'delete') {
      this.problems.push(`unexpected ${f.event} frame: ${JSON.stringify(f.data)}`);
      return;
    }
    const d = f.data;
    if (f.id === undefined || d.revision !== f.id || (d.value === null) !== (f.event === 'delete')) this.problems.push(`bad change frame ${JSON.stringify(f)}`);
    if (this.resumeId !== undefined && f.id !== undefined && f.id <= this.resumeId)
      this.problems.push(`change at ${f.id} replayed after resume point ${this.resumeId}`);
    const ch: Change = { revision: f.id ?? -1, key: d.key, value: d.value, event: f.event, ...(d.prevValue !== undefined ? { prevValue: d.prevValue } : {}) };
    if (this.pending.length > 0 && this.pending[0].revision !== ch.revision) this.flush();
    this.pending.push(ch);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.changes.push(...this.pending);
    this.resumeId = this.pending[this.pending.length - 1].revision;
    this.pending = [];
  }
}

/**
 * The answer to a watch request that must be refused: its status and problem JSON, or status 200
 * and no body when a stream started instead (then closed at once).
 */
async function watchRefusal(c: TestCluster, query: string, headers: Record<string, string> = {}): Promise<{ status: number; body?: any }> {
  const res = await fetch(`${c.url}/v1/watch?${query}`, { headers, signal: AbortSignal.timeout(30_000) });
  if (res.status === 200) {
    await res.body?.cancel();
    return { status: 200 };
  }
  return { status: res.status, body: await res.json() };
}

/** Drops a watch's connection for half a second (changes go on meanwhile); returns once it is back. */
async function dropAndResume(w: Watch): Promise<void> {
  const n = w.connections.length;
  w.drop(500);
  await waitFor(async () => w.connections.length > n, 60_000, 'a dropped watch back');
}

// ---------------------------------------------------------------------------------------------
// Watch checks

/** A change a write made, as a watch must show it: value null for a delete. */
interface Effect {
  revision: number;
  key: string;
  value: string | null;
}

const label = (e: Effect): string => `${e.revision} ${e.key}=${e.value === null ? '<deleted>' : e.value}`;

/** Expected effects against what a watch showed: what is missing, what no write made, what came twice. */
function compareEffects(expected: Effect[], seen: Change[]): { missing: string[]; unexpected: string[]; duplicates: string[] } {
  const want = new Map(expected.map((e) => [`${e.revision} ${e.key}`, label(e)]));
  const got = new Map<string, string>();
  const duplicates: string[] = [];
  for (const ch of seen) {
    const id = `${ch.revision} ${ch.key}`;
    if (got.has(id)) duplicates.push(label(ch));
    got.set(id, label(ch));
  }
  const missing = [...want].filter(([id, l]) => got.get(id) !== l).map(([, l]) => l);
  const unexpected = [...got].filter(([id, l]) => want.get(id) !== l).map(([, l]) => l);
  return { missing, unexpected, duplicates };
}

/** Places where a watch's revisions go down. */
function decreasing(changes: Change[]): string[] {
  return changes.slice(1).flatMap((ch, i) => (ch.revision < changes[i].revision ? [`${changes[i].revision} then ${ch.revision}`] : []));
}

/** Changes whose prevValue is not the key's value before them in `changes` (a complete history of its keys). */
function wrongPrevValues(changes: Change[]): string[] {
  const last = new Map<string, string | null>();
  const wrong: string[] = [];
  for (const ch of changes) {
    const prev = last.get(ch.key) ?? undefined;
    if ((ch.prevValue ?? undefined) !== (prev ?? undefined)) wrong.push(`${label(ch)}: prevValue ${ch.prevValue}, expected ${prev}`);
    last.set(ch.key, ch.value);
  }
  return wrong;
}

const shape = (changes: Change[]) => changes.map((ch) => ({ revision: ch.revision, key: ch.key, value: ch.value, event: ch.event, prevValue: ch.prevValue }));

// ---------------------------------------------------------------------------------------------
// Watch workload: puts, deletes and transactions on w/k0..w/k4

const W_KEYS = ['w/k0', 'w/k1', 'w/k2', 'w/k3', 'w/k4'];

/** One random write (each attempt of it under one Idempotency-Key); returns the changes it made. */
async function randomWrite(c: TestCluster, idem: string, value: string): Promise<Effect[]> {
  const roll = Math.random();
  const key = pick(W_KEYS);
  if (roll < 0.45) {
    const r = await answered(c, 'PUT', kv(key), { value }, idem);
    return [{ revision: r.body.revision, key, value }];
  }
  if (roll < 0.7) {
    const r = await answered(c, 'DELETE', kv(key), undefined, idem);
    return r.body.deleted ? [{ revision: r.body.revision, key, value: null }] : [];
  }
  const other = pick(W_KEYS.filter((k) => k !== key));
  const txn = {
    compare: [{ key, target: 'version', op: '>', value: 0 }],
    success: [
      { op: 'put', key, value },
      { op: 'delete', key: other },
    ],
    failure: [{ op: 'put', key: other, value }],
  };
  const r = await answered(c, 'POST', '/v1/txn', txn, idem);
  const effects: Effect[] = [];
  for (const res of r.body.results) {
    if (res.revision !== r.body.revision) throw new Error(`txn result at ${res.revision}, txn at ${r.body.revision}: ${JSON.stringify(r.body)}`);
    if (res.op === 'put') effects.push({ revision: res.revision, key: res.key, value });
    if (res.op === 'delete' && res.deleted) effects.push({ revision: res.revision, key: res.key, value: null });
  }
  return effects;
}

/** A writer: random writes, paced, until `stop()`; every one is retried until acknowledged. */
async function writer(c: TestCluster, id: string, effects: Effect[], acked: { n: number }, stop: () => boolean): Promise<void> {
  for (let i = 1; !stop(); i++) {
    effects.push(...(await randomWrite(c, `${id}/${i}`, `${id}.${i}`)));
    acked.n++;
    await pause(60);
  }
}

// ---------------------------------------------------------------------------------------------
// Bank workload

const ACCOUNTS = Array.from({ length: 8 }, (_, i) => `bank/a${i}`);

/** What the bank run records: the history for the checker, the transfers applied, the audits. */
class Bank {
  readonly history: HistoryOp[] = [];
  readonly applied: { from: string; to: string; amount: number; revision: number }[] = [];
  readonly badAudits: string[] = [];
  audits = 0;
  lastAuditRevision = 0;
  conflicts = 0;
  private nextId = 1;

  constructor(private readonly c: TestCluster) {}

  /** A linearizable GET of one account, recorded as a get. */
  async read(client: number, key: string): Promise<{ value: string; modRevision: number }> {
    const invoke = performance.now();
    const r = await answered(this.c, 'GET', kv(key));
    this.record({ client, kind: 'get', key, invoke, complete: performance.now(), status: 'ok', result: { value: r.body.value } });
    return r.body;
  }

  /** One transfer: read both, move with a txn comparing both modRevisions; a lost race reads again. */
  async transfer(client: number, attempt: () => string): Promise<void> {
    const from = pick(ACCOUNTS);
    const to = pick(ACCOUNTS.filter((a) => a !== from));
    const wanted = 1 + Math.floor(Math.random() * 30);
    for (;;) {
      const a = await this.read(client, from);
      const b = await this.read(client, to);
      const amount = Math.min(wanted, Number(a.value));
      if (amount === 0) return;
      const next = { from: String(Number(a.value) - amount), to: String(Number(b.value) + amount) };
      const txn = {
        compare: [
          { key: from, target: 'modRevision', op: '=', value: a.modRevision },
          { key: to, target: 'modRevision', op: '=', value: b.modRevision },
        ],
        success: [
          { op: 'put', key: from, value: next.from },
          { op: 'put', key: to, value: next.to },
        ],
        failure: [],
      };
      const invoke = performance.now();
      const r = await answered(this.c, 'POST', '/v1/txn', txn, attempt());
      const complete = performance.now();
      if (!r.body.succeeded) {
        this.conflicts++;
        continue;
      }
      // Both modRevisions unchanged: both values were the ones read, so each put is a successful cas.
      this.record({ client, kind: 'cas', key: from, expected: a.value, value: next.from, invoke, complete, status: 'ok', result: { succeeded: true } });
      this.record({ client, kind: 'cas', key: to, expected: b.value, value: next.to, invoke, complete, status: 'ok', result: { succeeded: true } });
      this.applied.push({ from, to, amount, revision: r.body.revision });
      return;
    }
  }

  /** Every balance at one revision (a txn of one range): 8 accounts, none negative, 800 in all. */
  async audit(client: number): Promise<Record<string, number>> {
    const invoke = performance.now();
    const r = await answered(this.c, 'POST', '/v1/txn', { success: [{ op: 'range', prefix: 'bank/' }] });
    const complete = performance.now();
    const items: { key: string; value: string }[] = r.body.results[0].items;
    for (const i of items) this.record({ client, kind: 'get', key: i.key, invoke, complete, status: 'ok', result: { value: i.value } });
    const balances = Object.fromEntries(items.map((i) => [i.key, Number(i.value)]));
    const values = Object.values(balances);
    const sum = values.reduce((x, y) => x + y, 0);
    if (items.length !== ACCOUNTS.length || sum !== 800 || values.some((v) => !Number.isInteger(v) || v < 0)) {
      this.badAudits.push(`revision ${r.body.revision}: ${JSON.stringify(balances)} (sum ${sum})`);
    }
    if (r.body.revision < this.lastAuditRevision) this.badAudits.push(`audit at revision ${r.body.revision} after one at ${this.lastAuditRevision}`);
    this.lastAuditRevision = r.body.revision;
    this.audits++;
    return balances;
  }

  /** The balances the applied transfers imply. */
  model(): Record<string, number> {
    const m = Object.fromEntries(ACCOUNTS.map((a) => [a, 100]));
    for (const t of this.applied) {
      m[t.from] -= t.amount;
      m[t.to] += t.amount;
    }
    return m;
  }

  private record(op: Omit<HistoryOp, 'id'>): void {
    this.history.push({ id: this.nextId++, ...op });
  }
}

// ---------------------------------------------------------------------------------------------

describe.each(PROTOCOLS)('coordination API: $protocol, $nodes nodes', ({ protocol, nodes }) => {
  // Progress every second (default 5 s): a watch's last revision is confirmed complete sooner.
  const cluster = clusterForSuite(['--protocol', protocol, '--nodes', String(nodes), '--gateway-env', 'WATCH_PROGRESS_MS=1000']);
  const run = `e2e-${process.pid}-${protocol}`;

  it('watches: every acknowledged change once, in revision order, through a leader kill, a gateway SIGKILL and dropped connections', async () => {
    const c = cluster();
    const opened: Watch[] = [];
    const open = (query: string) => {
      const w = new Watch(c.url, query);
      opened.push(w);
      return w.start();
    };
    try {
      await watchesUnderFaults(c, open);
    } finally {
      await Promise.all(opened.map((w) => w.stop()));
    }
  }, 240_000);

  /** Test 1's body: `open` starts a watch that is stopped however the test ends. */
  async function watchesUnderFaults(c: TestCluster, open: (query: string) => Promise<Watch>): Promise<void> {
    const w1 = await open('prefix=w%2F');
    const w2 = await open('key=w%2Fk1');
    const w3 = await open('prefix=w%2F');
    const watches = [w1, w2, w3];
    // A watch "from now" starts with a progress event: where it starts.
    for (const w of watches) expect(w.connections[0].first).toBe('progress');

    const effects: Effect[] = [];
    const acked = { n: 0 };
    let stop = false;
    const writers = [0, 1, 2, 3].map((i) => writer(c, `${run}-w${i}`, effects, acked, () => stop));
    const ackedBeyond = (n: number) => waitFor(async () => acked.n >= n, 90_000, `${n} acknowledged writes`);

    const nemesis = async () => {
      await ackedBeyond(30);
      await dropAndResume(w3);
      const leader = await killLeader(c);
      await ackedBeyond(acked.n + 20);
      await revive(c, leader);
      const gw = await killGateway(c);
      // Every watch lost its stream with the gateway; each resumes through the new process.
      await waitFor(async () => watches.every((w) => w.connections.some((x) => x.at > gw.killedAt)), 60_000, 'every watch back through the restarted gateway');
      await ackedBeyond(acked.n + 20);
      await dropAndResume(w3);
      await ackedBeyond(acked.n + 20);
      return gw;
    };
    let gw: Awaited<ReturnType<typeof nemesis>>;
    try {
      gw = await nemesis();
    } finally {
      stop = true;
      await Promise.allSettled(writers);
    }
    await Promise.all(writers);

    const sentinel = await answered(c, 'PUT', kv('w/k1'), { value: 'sentinel' }, `${run}-sentinel`);
    effects.push({ revision: sentinel.body.revision, key: 'w/k1', value: 'sentinel' });
    const full = await open('prefix=w%2F&fromRevision=1');
    for (const w of [...watches, full]) await waitFor(async () => w.has(sentinel.body.revision, 'w/k1'), 60_000, 'the sentinel on every watch');
    for (const w of [...watches, full]) await w.stop();

    const prefixed = effects.filter((e) => e.key.startsWith('w/'));
    const k1 = effects.filter((e) => e.key === 'w/k1');
    // Beyond the sentinel, W2's key was written, and some transactions changed two keys at one revision.
    expect(k1.length).toBeGreaterThan(1);
    expect(new Set(w1.changes.map((ch) => ch.revision)).size).toBeLessThan(w1.changes.length);
    for (const [w, expected] of [
      [w1, prefixed],
      [w2, k1],
      [w3, prefixed],
      [full, prefixed],
    ] as const) {
      expect(w.problems).toEqual([]);
      expect(decreasing(w.changes)).toEqual([]);
      expect(compareEffects(expected, w.changes)).toEqual({ missing: [], unexpected: [], duplicates: [] });
    }
    // W1 saw the whole history of w/ (nothing was written there before it started).
    expect(wrongPrevValues(w1.changes)).toEqual([]);
    expect(shape(w3.changes)).toEqual(shape(w1.changes));
    expect(shape(w2.changes)).toEqual(shape(w1.changes.filter((ch) => ch.key === 'w/k1')));
    expect(shape(full.changes)).toEqual(shape(w1.changes));
    // W3 resumed with Last-Event-ID at least once through the restarted gateway.
    expect(w3.connections.some((x) => x.at > gw.killedAt && x.lastEventId !== undefined)).toBe(true);
    expect(w1.progress).toBeGreaterThan(0);
  }

  it('bank transfers with txn compare-on-modRevision: 800 in all, never negative, each transfer once, linearizable per account', async () => {
    const c = cluster();
    const init = await answered(c, 'POST', '/v1/txn', { success: ACCOUNTS.map((key) => ({ op: 'put', key, value: '100' })) }, `${run}-bank-init`);
    expect(init.body.succeeded).toBe(true);
    const bank = new Bank(c);
    const TRANSFERS = 50;
    let clientsDone = false;
    let halted = false; // the test failed: the clients stop
    const clients = [0, 1, 2, 3].map(async (n) => {
      let seq = 0;
      for (let t = 0; t < TRANSFERS && !halted; t++) await bank.transfer(n, () => `${run}-bank${n}/${++seq}`);
    });
    const all = Promise.all(clients).finally(() => (clientsDone = true));
    const auditor = (async () => {
      while (!clientsDone) {
        await bank.audit(4);
        await pause(200);
      }
    })();
    const nemesis = async () => {
      await waitFor(async () => bank.applied.length >= 50 || clientsDone, 90_000, '50 transfers');
      const leader = await killLeader(c);
      const atKill = bank.applied.length;
      await waitFor(async () => bank.applied.length >= atKill + 30 || clientsDone, 90_000, '30 transfers after the kill');
      await revive(c, leader);
      return atKill;
    };
    const [atKill] = await Promise.all([nemesis(), all, auditor]).finally(() => (halted = true));
    expect(atKill).toBeLessThan(TRANSFERS * 4); // the kill came while transfers were running

    const final = await bank.audit(4);
    expect(bank.badAudits).toEqual([]);
    expect(bank.audits).toBeGreaterThanOrEqual(5);
    expect(final).toEqual(bank.model());
    expect(bank.applied.length).toBeGreaterThan(150);
    // Each applied transfer at its own revision: no two transactions share one.
    expect(new Set(bank.applied.map((t) => t.revision)).size).toBe(bank.applied.length);

    const check = checkLinearizable(bank.history, { initial: new Map(ACCOUNTS.map((a) => [a, '100'])) });
    expect({ violations: check.violations, unknownKeys: check.unknownKeys }).toEqual({ violations: [], unknownKeys: [] });
    expect(check.linearizable).toBe(true);
    expect(check.keys).toBe(ACCOUNTS.length);
  }, 240_000);

  it('reads in the past: each put read back at its revision, between puts, and 404 before the key existed', async () => {
    const c = cluster();
    const key = 'past/k';
    const puts: { value: string; revision: number; between: number }[] = [];
    for (let i = 1; i <= 5; i++) {
      const p = await answered(c, 'PUT', kv(key), { value: `v${i}` }, `${run}-past/${2 * i - 1}`);
      // Another key's write after each: a revision at which past/k did not change.
      const other = await answered(c, 'PUT', kv('past/other'), { value: `o${i}` }, `${run}-past/${2 * i}`);
      puts.push({ value: `v${i}`, revision: p.body.revision, between: other.body.revision });
    }
    const created = puts[0].revision;
    for (const [i, p] of puts.entries()) {
      const at = await read(c, `${kv(key)}?revision=${p.revision}`);
      expect(at).toMatchObject({ status: 200, body: { key, value: p.value, modRevision: p.revision, createRevision: created, version: i + 1 } });
      const between = await read(c, `${kv(key)}?revision=${p.between}`);
      expect(between).toMatchObject({ status: 200, body: { value: p.value, modRevision: p.revision } });
    }
    expect(await read(c, `${kv(key)}?revision=${created - 1}`)).toMatchObject({ status: 404, body: { key } });
    const del = await answered(c, 'DELETE', kv(key), undefined, `${run}-past/11`);
    expect(del.body).toMatchObject({ deleted: true });
    expect((await read(c, `${kv(key)}?revision=${del.body.revision}`)).status).toBe(404);
    expect(await read(c, `${kv(key)}?revision=${del.body.revision - 1}`)).toMatchObject({ status: 200, body: { value: 'v5' } });
    expect((await read(c, kv(key))).status).toBe(404);
  }, 90_000);

  it('compaction: reads and watches below the point answer 410 with compactRevision, at and above it they work', async () => {
    const c = cluster();
    const put = (key: string, value: string, n: number) => answered(c, 'PUT', kv(key), { value }, `${run}-compact/${n}`);
    await put('c/a', 'a1', 1);
    const r = (await put('c/b', 'b1', 2)).body.revision as number;
    await put('c/a', 'a2', 3);
    const last = (await put('c/b', 'b2', 4)).body.revision as number;

    const compact = await answered(c, 'POST', '/v1/compact', { revision: last }, `${run}-compact/5`);
    expect(compact.body).toEqual({ compactRevision: last, revision: expect.any(Number) });
    expect(compact.body.revision).toBeGreaterThan(last);

    expect(await read(c, `${kv('c/b')}?revision=${r}`)).toMatchObject({ status: 410, body: { status: 410, compactRevision: last } });
    const watchGone = await watchRefusal(c, `prefix=c%2F&fromRevision=${r}`);
    expect(watchGone).toMatchObject({ status: 410, body: { status: 410, compactRevision: last } });
    // A resume (Last-Event-ID) from below the point is refused the same way.
    const resumeGone = await watchRefusal(c, 'prefix=c%2F', { 'last-event-id': String(r) });
    expect(resumeGone).toMatchObject({ status: 410, body: { status: 410, compactRevision: last } });

    // At the point and at the current revision, reads work.
    expect(await read(c, `${kv('c/b')}?revision=${last}`)).toMatchObject({ status: 200, body: { value: 'b2', modRevision: last } });
    expect(await read(c, `${kv('c/a')}?revision=${compact.body.revision}`)).toMatchObject({ status: 200, body: { value: 'a2' } });

    // A watch from compactRevision + 1 works and shows what follows, nothing from before.
    const after = (await put('c/a', 'a3', 6)).body.revision as number;
    const w = new Watch(c.url, `prefix=c%2F&fromRevision=${last + 1}`);
    try {
      await w.start();
      await waitFor(async () => w.has(after, 'c/a'), 60_000, 'the change after the compaction');
    } finally {
      await w.stop();
    }
    expect(w.problems).toEqual([]);
    expect(shape(w.changes)).toEqual([{ revision: after, key: 'c/a', value: 'a3', event: 'put', prevValue: 'a2' }]);
  }, 90_000);
});
