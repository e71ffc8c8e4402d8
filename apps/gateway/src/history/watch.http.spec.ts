import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import type { KvRequest } from '@app/consensus/kv';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { FakeReplica, startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type HttpAnswer, type RunningGateway } from '../testing/gateway-harness';

/**
 * The replicated history over HTTP: GET /v1/watch (Server-Sent Events), GET /v1/kv/{key}?revision=R
 * and POST /v1/compact, against a real gateway and fake replicas that run the real KvStateMachine
 * (its history and compaction) over a real Redis. Two clusters: one whose history is never
 * compacted (watches replay it from revision 1), one for compaction.
 */

jest.setTimeout(30_000);

const PROGRESS_MS = 300;
const MAX_KEY_BYTES = 32;
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
});

afterAll(async () => {
  await redis?.stop();
});

type Cluster = Awaited<ReturnType<typeof startFakeCluster>>;

async function startAll(name: string): Promise<{ cluster: Cluster; gw: RunningGateway }> {
  const cluster = await startFakeCluster(redis.url, name, ['n1', 'n2', 'n3']);
  const gw = await startGateway(
    { BUS_URL: redis.url, CLUSTER: name, NODES: 'n1,n2,n3', WATCH_PROGRESS_MS: String(PROGRESS_MS), MAX_KEY_BYTES: String(MAX_KEY_BYTES) },
    { requestTimeoutMs: 2000, attemptTimeoutMs: 400 },
  );
  await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
  return { cluster, gw };
}

// ---- an SSE client that keeps the stream byte for byte

interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: any;
  /** When the client had the whole frame (ms, Date.now()). */
  at: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Watch {
  status = 0;
  headers: IncomingHttpHeaders = {};
  raw = '';
  ended = false;
  private readonly frameTimes: number[] = [];
  private readonly req: ClientRequest;
  private readonly closed: Promise<void>;

  private constructor(url: string, headers: Record<string, string>, onHead: () => void) {
    let socketClosed!: () => void;
    this.closed = new Promise((r) => (socketClosed = r));
    this.req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.raw += chunk;
        const frames = this.raw.split('\n\n').length - 1;
        while (this.frameTimes.length < frames) this.frameTimes.push(Date.now());
      });
      res.on('end', () => (this.ended = true));
      res.on('error', () => undefined);
      onHead();
    });
    this.req.on('error', () => undefined);
    this.req.on('close', () => socketClosed());
    this.req.end();
  }

  /** Opens a watch; resolves once the answer's head is in. */
  static open(base: string, path: string, headers: Record<string, string> = {}): Promise<Watch> {
    return new Promise((resolve) => {
      const w: Watch = new Watch(base + path, headers, () => resolve(w));
      openWatches.push(w);
    });
  }

  /** Every complete frame so far, as an EventSource reads it (`data` parsed as JSON). */
  get events(): SseEvent[] {
    const frames = this.raw.split('\n\n').slice(0, -1);
    return frames.map((f, i) => {
      const e: SseEvent = { id: undefined, event: undefined, data: undefined, at: this.frameTimes[i] };
      for (const line of f.split('\n')) {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon);
        const value = line.slice(colon + 2);
        if (field === 'id') e.id = value;
        else if (field === 'event') e.event = value;
        else if (field === 'data') e.data = JSON.parse(value);
        else throw new Error(`unexpected line ${JSON.stringify(line)} in frame ${JSON.stringify(f)}`);
      }
      return e;
    });
  }

  get changes(): SseEvent[] {
    return this.events.filter((e) => e.event === 'put' || e.event === 'delete');
  }

  get progress(): SseEvent[] {
    return this.events.filter((e) => e.event === 'progress');
  }

  async until(what: string, cond: (w: Watch) => boolean, timeoutMs = 5000): Promise<void> {
    await waitUntil(`${what}; the stream so far: ${JSON.stringify(this.raw)}`, () => cond(this), timeoutMs);
  }

  /** Hangs up (as a browser leaving the page), until the socket is closed. */
  async close(): Promise<void> {
    this.req.destroy();
    await this.closed;
  }
}

let openWatches: Watch[] = [];

afterEach(async () => {
  // An open stream keeps the gateway from closing and keeps the feed polling: close every one.
  await Promise.all(openWatches.map((w) => w.close()));
  openWatches = [];
  await sleep(50);
});

/** The frame a change is written as, spelled out here (not with sse.ts). */
function changeFrame(kind: 'put' | 'delete', key: string, value: string | null, revision: number, prevValue?: string): string {
  const data = prevValue === undefined ? { key, value, revision } : { key, value, revision, prevValue };
  return `id: ${revision}\nevent: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
}
const progressText = (revision: number) => `id: ${revision}\nevent: progress\ndata: {"revision":${revision}}\n\n`;

function expectProblem(res: HttpAnswer, status: number, type: string, field: string | undefined, instance = '/v1/watch'): void {
  expect({ status: res.status, field: res.body?.field }).toEqual({ status, field });
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ type, status, instance, detail: expect.any(String) });
}

const INVALID = 'https://synod.dev/problems/invalid-field';
const TOO_LARGE = 'https://synod.dev/problems/too-large';
const COMPACTED = 'https://synod.dev/problems/compacted';

// ===================================================================================== watches

describe('GET /v1/watch', () => {
  let cluster: Cluster;
  let gw: RunningGateway;

  beforeAll(async () => {
    ({ cluster, gw } = await startAll('watch'));
  });

  afterAll(async () => {
    await gw?.close();
    await cluster?.stop();
  });

  const rev = (): number => cluster.store.sm.appliedRevision;
  const put = async (key: string, value: string): Promise<number> => {
    const r = await http(gw.base, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, { body: { value } });
    expect(r.status).toBe(200);
    return r.body.revision as number;
  };
  const del = async (key: string): Promise<number> => {
    const r = await http(gw.base, 'DELETE', `/v1/kv/${encodeURIComponent(key)}`);
    expect(r.body).toMatchObject({ deleted: true });
    return r.body.revision as number;
  };
  const txn = async (body: unknown): Promise<{ succeeded: boolean; revision: number }> => {
    const r = await http(gw.base, 'POST', '/v1/txn', { body });
    expect(r.status).toBe(200);
    return r.body;
  };
  const watch = (path: string, headers: Record<string, string> = {}) => Watch.open(gw.base, path, headers);
  /** Reads of the history (changes queries) the replicas have been sent, all of them. */
  const changeReads = (): number =>
    [...cluster.replicas.values()].reduce((n, r: FakeReplica) => n + r.reads.filter((x) => (x.query as { op: string }).op === 'changes').length, 0);

  it('replays the history from fromRevision=1 in order, then a progress at the revision read, then changes live', async () => {
    const r1 = await put('rp/a', '1');
    const r2 = await put('rp/b', '2');
    const r3 = await put('rp/a', '3');
    const r4 = await del('rp/b');
    const r5 = await put('other/x', 'not under the prefix');

    const w = await watch('/v1/watch?prefix=rp/&fromRevision=1');
    expect(w.status).toBe(200);
    expect(w.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(w.headers['cache-control']).toBe('no-cache, no-transform');
    await w.until('the first progress', (x) => x.progress.length >= 1);
    const replay =
      changeFrame('put', 'rp/a', '1', r1) +
      changeFrame('put', 'rp/b', '2', r2) +
      changeFrame('put', 'rp/a', '3', r3, '1') +
      changeFrame('delete', 'rp/b', null, r4, '2') +
      progressText(r5);
    expect(w.raw.slice(0, replay.length)).toBe(replay);

    const r6 = await put('rp/c', '4');
    await put('other/y', 'not under the prefix either');
    const r8 = await del('rp/a');
    await w.until('the two live changes', (x) => x.changes.length >= 6);
    await sleep(150); // nothing else is on its way
    expect(w.changes.slice(4).map((e) => [e.id, e.event, e.data])).toEqual([
      [String(r6), 'put', { key: 'rp/c', value: '4', revision: r6 }],
      [String(r8), 'delete', { key: 'rp/a', value: null, revision: r8, prevValue: '3' }],
    ]);
    expect(w.changes).toHaveLength(6);
    expect(w.raw).toContain(changeFrame('put', 'rp/c', '4', r6) + changeFrame('delete', 'rp/a', null, r8, '3'));
    // Ids never go back, and a change's id is its revision.
    const ids = w.events.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    for (const e of w.changes) expect(Number(e.id)).toBe(e.data.revision);
    expect(w.ended).toBe(false);
  });

  it("a transaction's changes arrive together: consecutive events with its one revision, in the order of its ops", async () => {
    await put('tx/0', 'old');
    await put('tx/2', 'was');
    const w = await watch('/v1/watch?prefix=tx/');
    await w.until('the first progress', (x) => x.progress.length >= 1);
    // From now: no history, and the progress says where "now" was.
    expect(w.raw).toBe(progressText(rev()));

    const t = await txn({
      success: [
        { op: 'put', key: 'tx/1', value: 'a' },
        { op: 'delete', key: 'tx/0' },
        { op: 'get', key: 'tx/1' },
        { op: 'put', key: 'tx/2', value: 'b' },
        { op: 'put', key: 'elsewhere', value: 'not under tx/' },
      ],
    });
    await w.until('the three changes', (x) => x.changes.length >= 3);
    const R = t.revision;
    expect(w.raw).toContain(changeFrame('put', 'tx/1', 'a', R) + changeFrame('delete', 'tx/0', null, R, 'old') + changeFrame('put', 'tx/2', 'b', R, 'was'));

    // A transaction that writes nothing under the prefix, or nothing at all, is no event.
    const failed = await txn({
      compare: [{ key: 'tx/1', target: 'value', op: '=', value: 'zzz' }],
      success: [{ op: 'put', key: 'tx/9', value: 'no' }],
      failure: [{ op: 'get', key: 'tx/1' }],
    });
    expect(failed.succeeded).toBe(false);
    const other = await txn({ failure: [{ op: 'put', key: 'tx/9', value: 'no' }], success: [{ op: 'put', key: 'not-tx', value: 'x' }] });
    const last = await put('tx/3', 'sentinel');
    await w.until('the sentinel', (x) => x.changes.length >= 4);
    expect(other.revision).toBeLessThan(last);
    expect(w.changes.map((e) => [e.id, e.data.key])).toEqual([
      [String(R), 'tx/1'],
      [String(R), 'tx/0'],
      [String(R), 'tx/2'],
      [String(last), 'tx/3'],
    ]);
  });

  it('Last-Event-ID resumes strictly after that revision, over fromRevision: the rest exactly once', async () => {
    const revs = [await put('lr/1', 'a'), await put('lr/2', 'b'), await put('lr/3', 'c'), await put('lr/4', 'd')];
    const first = await watch('/v1/watch?prefix=lr/&fromRevision=1');
    await first.until('four changes', (x) => x.changes.length >= 4);
    expect(first.changes.map((e) => e.id)).toEqual(revs.map(String));
    await first.until('a progress', (x) => x.progress.length >= 1);
    const resumePoint = first.progress[0].id as string;
    await first.close();
    const r5 = await put('lr/5', 'e'); // while nobody watches

    // A reconnect after the second change, with fromRevision=1 still in the URL (as EventSource keeps it).
    const a = await watch('/v1/watch?prefix=lr/&fromRevision=1', { 'Last-Event-ID': String(revs[1]) });
    // One after the last change seen.
    const b = await watch('/v1/watch?prefix=lr/', { 'Last-Event-ID': String(revs[3]) });
    // From a progress id: only what came after it.
    const c = await watch('/v1/watch?prefix=lr/&fromRevision=1', { 'Last-Event-ID': resumePoint });
    for (const w of [a, b, c]) await w.until('the catch-up and a progress', (x) => x.progress.length >= 1);
    const r6 = await put('lr/6', 'f');
    for (const w of [a, b, c]) await w.until('the live change', (x) => x.changes.some((e) => e.data.revision === r6));
    await sleep(150);

    expect(a.changes.map((e) => e.data)).toEqual([
      { key: 'lr/3', value: 'c', revision: revs[2] },
      { key: 'lr/4', value: 'd', revision: revs[3] },
      { key: 'lr/5', value: 'e', revision: r5 },
      { key: 'lr/6', value: 'f', revision: r6 },
    ]);
    expect(b.changes.map((e) => e.data.revision)).toEqual([r5, r6]);
    expect(c.changes.map((e) => e.data.revision)).toEqual([r5, r6]);
    // The catch-up comes before the first progress, the live change after it.
    expect(a.raw.indexOf(changeFrame('put', 'lr/5', 'e', r5))).toBeLessThan(a.raw.indexOf('event: progress'));
    expect(a.raw.indexOf(changeFrame('put', 'lr/6', 'f', r6))).toBeGreaterThan(a.raw.indexOf('event: progress'));
  });

  it('key= follows that one key only, not the keys it is a prefix of', async () => {
    const r1 = await put('k/one', '1');
    await put('k/one2', 'x');
    await put('k/on', 'y');
    const r4 = await put('k/one', '2');
    const r5 = await del('k/one');
    const w = await watch('/v1/watch?key=k%2Fone&fromRevision=1');
    await w.until('a progress', (x) => x.progress.length >= 1);
    await put('k/one2', 'live but not it');
    const r7 = await put('k/one', 'live');
    await w.until('the live change', (x) => x.changes.length >= 4);
    await sleep(150);
    expect(w.changes.map((e) => [e.event, e.data])).toEqual([
      ['put', { key: 'k/one', value: '1', revision: r1 }],
      ['put', { key: 'k/one', value: '2', revision: r4, prevValue: '1' }],
      ['delete', { key: 'k/one', value: null, revision: r5, prevValue: '2' }],
      ['put', { key: 'k/one', value: 'live', revision: r7 }],
    ]);
  });

  it('an idle watch gets a progress every WATCH_PROGRESS_MS, at the revision it has reached (other keys too)', async () => {
    const w = await watch('/v1/watch?prefix=idle/');
    await w.until('three progress events', (x) => x.progress.length >= 3, 4000);
    const p = w.progress.slice(0, 3);
    const now = rev();
    expect(p.map((e) => [e.id, e.data])).toEqual([
      [String(now), { revision: now }],
      [String(now), { revision: now }],
      [String(now), { revision: now }],
    ]);
    for (const [x, y] of [
      [p[0], p[1]],
      [p[1], p[2]],
    ]) {
      // Not sooner than configured (its timer ticks every PROGRESS_MS / 4), and not the default 5000 ms.
      expect(y.at - x.at).toBeGreaterThanOrEqual(PROGRESS_MS - 100);
      expect(y.at - x.at).toBeLessThan(PROGRESS_MS + 1500);
    }
    // A change the watch does not follow still moves its resume point on.
    const elsewhere = await put('not-idle/x', 'v');
    await w.until('a progress at that revision', (x) => x.progress.some((e) => Number(e.id) === elsewhere), 3000);
    expect(w.changes).toEqual([]);
    expect(Math.max(...w.progress.map((e) => Number(e.id)))).toBe(elsewhere);
  });

  it('replays a history longer than a page: whole revisions, every change once and in order, the first progress where the delivered changes end', async () => {
    // Written to the replicated store directly (hundreds of changes): the watch reads them back.
    let seq = 0;
    const apply = (cmd: KvRequest['cmd']) => cluster.store.apply([{ id: `bulk/${++seq}`, ts: 0, cmd }]);
    const from = rev() + 1;
    for (let i = 0; i < 300; i++) apply({ op: 'put', key: `pg/${String(i).padStart(3, '0')}`, value: String(i) });
    const big = Array.from({ length: 300 }, (_, i) => ({ op: 'put' as const, key: `big/${String(i).padStart(3, '0')}`, value: String(i) }));
    apply({ op: 'txn', compare: [], success: big, failure: [] });
    const bigRevision = rev();

    const w = await watch(`/v1/watch?prefix=pg/&fromRevision=${from}`);
    await w.until('300 changes', (x) => x.changes.length >= 300);
    await w.until('a progress', (x) => x.progress.length >= 1);
    const changes = w.changes;
    expect(changes.map((e) => e.data.key)).toEqual(Array.from({ length: 300 }, (_, i) => `pg/${String(i).padStart(3, '0')}`));
    expect(changes.map((e) => e.data.revision)).toEqual(Array.from({ length: 300 }, (_, i) => from + i));
    // The first progress says how far the changes before it go: a resume point that skips nothing.
    const events = w.events;
    const firstProgress = events.findIndex((e) => e.event === 'progress');
    expect(firstProgress).toBeGreaterThan(0);
    expect(events[firstProgress].id).toBe(events[firstProgress - 1].id);

    // One revision of 300 changes is never split by a page or a progress.
    const t = await watch(`/v1/watch?prefix=big/&fromRevision=${from}`);
    await t.until('a progress', (x) => x.progress.length >= 1);
    const tEvents = t.events;
    expect(tEvents.slice(0, 300).every((e) => e.event === 'put' && e.id === String(bigRevision))).toBe(true);
    expect(tEvents[300]).toMatchObject({ event: 'progress', id: String(bigRevision) });
    expect(t.changes.map((e) => e.data.key)).toEqual(big.map((o) => o.key));
  });

  it('a closed watch is no longer polled', async () => {
    const idle = changeReads();
    await sleep(400);
    expect(changeReads()).toBe(idle); // nothing polls while nobody watches
    const w = await watch('/v1/watch?prefix=poll/');
    await w.until('a progress', (x) => x.progress.length >= 1);
    const start = changeReads();
    await sleep(600);
    expect(changeReads() - start).toBeGreaterThanOrEqual(2); // the live feed polls while it is open
    await w.close();
    await sleep(400); // a read already sent may still be answered
    const after = changeReads();
    await sleep(800);
    expect(changeReads()).toBe(after);
  });

  describe('refused before the stream starts', () => {
    it.each([
      ['key and prefix both', '/v1/watch?key=a&prefix=a', {}, 400, INVALID, 'key'],
      ['an empty key', '/v1/watch?key=', {}, 400, INVALID, 'key'],
      ['key twice', '/v1/watch?key=a&key=b', {}, 400, INVALID, 'key'],
      ['fromRevision not a number', '/v1/watch?fromRevision=x', {}, 400, INVALID, 'fromRevision'],
      ['fromRevision negative', '/v1/watch?fromRevision=-1', {}, 400, INVALID, 'fromRevision'],
      ['fromRevision a fraction', '/v1/watch?fromRevision=1.5', {}, 400, INVALID, 'fromRevision'],
      ['Last-Event-ID not an integer', '/v1/watch?prefix=', { 'Last-Event-ID': 'abc' }, 400, INVALID, 'Last-Event-ID'],
      ['Last-Event-ID negative', '/v1/watch?fromRevision=1', { 'Last-Event-ID': '-1' }, 400, INVALID, 'Last-Event-ID'],
      ['Last-Event-ID a fraction', '/v1/watch', { 'Last-Event-ID': '2.5' }, 400, INVALID, 'Last-Event-ID'],
      ['a key over MAX_KEY_BYTES', `/v1/watch?key=${'k'.repeat(MAX_KEY_BYTES + 1)}`, {}, 413, TOO_LARGE, 'key'],
      ['a prefix over MAX_KEY_BYTES', `/v1/watch?prefix=${'é'.repeat(MAX_KEY_BYTES / 2 + 1)}`, {}, 413, TOO_LARGE, 'prefix'],
    ] as Array<[string, string, Record<string, string>, number, string, string]>)('%s', async (_name, path, headers, status, type, field) => {
      const readsBefore = changeReads();
      const res = await http(gw.base, 'GET', path, { headers });
      expectProblem(res, status, type, field);
      expect(changeReads()).toBe(readsBefore);
    });
  });
});

// ============================================================ reads in the past, compaction

describe('GET /v1/kv/{key}?revision=R and POST /v1/compact', () => {
  let cluster: Cluster;
  let gw: RunningGateway;
  const r: number[] = [];

  beforeAll(async () => {
    ({ cluster, gw } = await startAll('history'));
  });

  afterAll(async () => {
    await gw?.close();
    await cluster?.stop();
  });

  const rev = (): number => cluster.store.sm.appliedRevision;
  const getAt = (key: string, revision: number | string) => http(gw.base, 'GET', `/v1/kv/${encodeURIComponent(key)}?revision=${revision}`);
  const put = async (key: string, value: string): Promise<number> =>
    (await http(gw.base, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, { body: { value } })).body.revision;
  const compact = (body: unknown, headers: Record<string, string> = {}) => http(gw.base, 'POST', '/v1/compact', { body, headers });
  const item = (value: string, createRevision: number, modRevision: number, version: number) => ({
    key: 'h/k',
    value,
    revision: modRevision,
    createRevision,
    modRevision,
    version,
  });
  const watch = (path: string, headers: Record<string, string> = {}) => Watch.open(gw.base, path, headers);

  /** 410 naming the field the client sent: `revision` for a read, `fromRevision` or `Last-Event-ID` for a watch. */
  function expectCompacted(res: HttpAnswer, compactRevision: number, instance: string, field = 'revision'): void {
    expectProblem(res, 410, COMPACTED, field, instance);
    expect(res.body).toMatchObject({ title: 'Revision compacted', compactRevision });
  }

  it('reads a key as it was at a revision', async () => {
    r[1] = await put('h/k', 'v1');
    r[2] = await put('h/other', 'o');
    r[3] = await put('h/k', 'v2');
    const d = await http(gw.base, 'DELETE', '/v1/kv/h%2Fk');
    r[4] = d.body.revision;
    r[5] = await put('h/k', 'v3');
    expect(r.slice(1)).toEqual([1, 2, 3, 4, 5]); // a fresh store: these tests know its whole history

    const notFound = await getAt('h/k', 0);
    expect(notFound.status).toBe(404);
    expect(notFound.body).toMatchObject({ type: 'https://synod.dev/problems/not-found', key: 'h/k' });
    expect((await getAt('h/k', r[1])).body).toEqual(item('v1', r[1], r[1], 1));
    expect((await getAt('h/k', r[2])).body).toEqual(item('v1', r[1], r[1], 1));
    expect((await getAt('h/k', r[3])).body).toEqual(item('v2', r[1], r[3], 2));
    expect((await getAt('h/k', r[4])).status).toBe(404);
    expect((await getAt('h/k', r[5])).body).toEqual(item('v3', r[5], r[5], 1));
    expect((await getAt('h/other', r[1])).status).toBe(404);
    expect((await http(gw.base, 'GET', '/v1/kv/h%2Fk')).body).toEqual(item('v3', r[5], r[5], 1));
    // An empty revision= is no revision.
    expect((await http(gw.base, 'GET', '/v1/kv/h%2Fk?revision=')).body).toEqual(item('v3', r[5], r[5], 1));
  });

  it('400 naming revision for a revision in the future or not an integer', async () => {
    const future = await getAt('h/k', rev() + 1);
    expectProblem(future, 400, INVALID, 'revision', '/v1/kv/h%2Fk');
    expect(future.body.detail).toContain(`revision ${rev() + 1} is in the future`);
    for (const bad of ['abc', '-1', '1.5', '1e3', '0x10']) expectProblem(await getAt('h/k', bad), 400, INVALID, 'revision', '/v1/kv/h%2Fk');
    expectProblem(await http(gw.base, 'GET', '/v1/kv/h%2Fk?revision=1&revision=2'), 400, INVALID, 'revision', '/v1/kv/h%2Fk');
  });

  it('compacts: reads below the point are 410 with compactRevision; the point itself and above still read', async () => {
    const res = await compact({ revision: r[3] });
    expect(res.status).toBe(200);
    r[6] = rev();
    expect(res.body).toEqual({ compactRevision: r[3], revision: r[6] });
    expect(r[6]).toBe(r[5] + 1);

    expectCompacted(await getAt('h/k', r[2]), r[3], '/v1/kv/h%2Fk');
    expectCompacted(await getAt('h/k', 0), r[3], '/v1/kv/h%2Fk');
    expect((await getAt('h/k', r[3])).body).toEqual(item('v2', r[1], r[3], 2));
    expect((await getAt('h/k', r[4])).status).toBe(404);
    expect((await getAt('h/k', r[5])).body).toEqual(item('v3', r[5], r[5], 1));
    // Reads now are unaffected.
    expect((await http(gw.base, 'GET', '/v1/kv/h%2Fk')).body).toEqual(item('v3', r[5], r[5], 1));
  });

  it('a compaction never moves the point back', async () => {
    const res = await compact({ revision: r[1] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ compactRevision: r[3], revision: rev() });
    expectCompacted(await getAt('h/k', r[2]), r[3], '/v1/kv/h%2Fk');
  });

  it('a watch from at or below the point is 410; Last-Event-ID decides over fromRevision', async () => {
    expectCompacted(await http(gw.base, 'GET', `/v1/watch?prefix=h/&fromRevision=${r[3]}`), r[3], '/v1/watch', 'fromRevision');
    expectCompacted(await http(gw.base, 'GET', '/v1/watch?prefix=h/&fromRevision=1'), r[3], '/v1/watch', 'fromRevision');
    expectCompacted(
      await http(gw.base, 'GET', `/v1/watch?key=h%2Fk&fromRevision=${r[4]}`, { headers: { 'Last-Event-ID': String(r[3] - 1) } }),
      r[3],
      '/v1/watch',
      'Last-Event-ID',
    );

    // Just above the point: the history from there.
    const above = await watch(`/v1/watch?prefix=h/&fromRevision=${r[3] + 1}`);
    // Last-Event-ID at the point resumes after it, whatever fromRevision says.
    const resumed = await watch('/v1/watch?prefix=h/&fromRevision=1', { 'Last-Event-ID': String(r[3]) });
    for (const w of [above, resumed]) {
      expect(w.status).toBe(200);
      await w.until('a progress', (x) => x.progress.length >= 1);
      expect(w.raw.startsWith(changeFrame('delete', 'h/k', null, r[4], 'v2') + changeFrame('put', 'h/k', 'v3', r[5]))).toBe(true);
    }
  });

  it('a revision past the current one compacts up to the current one', async () => {
    const before = rev();
    const res = await compact({ revision: 1_000_000 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ compactRevision: before, revision: before + 1 });
    expectCompacted(await getAt('h/k', before - 1), before, '/v1/kv/h%2Fk');
    expect((await getAt('h/k', before)).body).toEqual(item('v3', r[5], r[5], 1));
  });

  it.each([
    ['no revision', {}, 'revision'],
    ['a negative revision', { revision: -1 }, 'revision'],
    ['a fraction', { revision: 1.5 }, 'revision'],
    ['a string', { revision: '3' }, 'revision'],
    ['null', { revision: null }, 'revision'],
    ['an array body', [3], 'body'],
  ] as Array<[string, unknown, string]>)('POST /v1/compact with %s → 400', async (_name, body, field) => {
    const before = rev();
    const res = await compact(body);
    expectProblem(res, 400, INVALID, field, '/v1/compact');
    expect(rev()).toBe(before);
  });

  it('POST /v1/compact with a body that is not JSON → 415', async () => {
    const before = rev();
    const res = await compact('{"revision":1}', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ type: 'https://synod.dev/problems/unsupported-media-type', instance: '/v1/compact' });
    expect(rev()).toBe(before);
  });

  it('POST /v1/compact with an Idempotency-Key: a retry is the first answer; another body under it is 422', async () => {
    const headers = { 'Idempotency-Key': 'compact-once' };
    const first = await compact({ revision: 2 }, headers);
    expect(first.status).toBe(200);
    await put('h/more', 'x');
    const retry = await compact({ revision: 2 }, headers);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    const other = await compact({ revision: rev() }, headers);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ type: 'https://synod.dev/problems/idempotency-key-reused', field: 'Idempotency-Key', instance: '/v1/compact' });
    expect(cluster.store.sm.compactRevision).toBe(first.body.compactRevision);
  });

  it('a live watch at or past the point goes on; one behind it gets event: compacted and the stream ends', async () => {
    const w = await watch('/v1/watch?prefix=live/');
    await w.until('a progress', (x) => x.progress.length >= 1);
    const at = Number(w.progress[0].id);
    // Compacting up to where the watch stands does not concern it.
    const c = await compact({ revision: at });
    expect(c.body.compactRevision).toBe(at);
    const r1 = await put('live/a', '1');
    await w.until('the change after the compaction', (x) => x.changes.length >= 1);
    expect(w.changes[0].data).toEqual({ key: 'live/a', value: '1', revision: r1 });
    expect(w.raw).not.toContain('compacted');

    // Written and compacted in one go, straight into the store (as replicas that were out of reach
    // for a while could have done): the feed still stands before the change it never read.
    await w.until('a progress at the change', (x) => x.progress.some((e) => Number(e.id) === r1));
    const base = rev();
    cluster.store.apply([
      { id: 'direct/1', ts: 0, cmd: { op: 'put', key: 'live/b', value: '2' } },
      { id: 'direct/2', ts: 0, cmd: { op: 'compact', revision: base + 1 } },
    ]);
    expect(cluster.store.sm.compactRevision).toBe(base + 1);
    await w.until('the stream to end', (x) => x.ended);
    expect(w.raw.endsWith(`event: compacted\ndata: {"compactRevision":${base + 1}}\n\n`)).toBe(true);
    expect(w.changes.map((e) => e.data.key)).toEqual(['live/a']); // the compacted change is not delivered
  });
});
