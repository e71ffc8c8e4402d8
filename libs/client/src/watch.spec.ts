import { SynodClient } from './client';
import { SynodCompactedError, SynodError, SynodUnavailableError } from './errors';
import { json, openSse, problem, put, ScriptedServer, sendSse, type Hit } from './testing/scripted-server';
import type { WatchEvent } from './watch';

/**
 * The watch's reconnect rules against two real HTTP servers that stream from a script: where it
 * resumes after each kind of loss, that it neither skips nor repeats a change, and how it ends.
 */
let a: ScriptedServer;
let b: ScriptedServer;

beforeAll(async () => {
  [a, b] = await Promise.all([ScriptedServer.start(), ScriptedServer.start()]);
});
afterAll(() => Promise.all([a.close(), b.close()]));
afterEach(() => {
  a.reset();
  b.reset();
});

const client = (endpoints = [a.url, b.url], deadlineMs = 5_000) => new SynodClient({ endpoints, deadlineMs, attemptTimeoutMs: 2_000 });

/** The first `n` events of the iterator, then a break (which closes the stream). */
async function take(it: AsyncIterable<WatchEvent>, n: number): Promise<WatchEvent[]> {
  const got: WatchEvent[] = [];
  if (n === 0) return got;
  for await (const e of it) if (got.push(e) >= n) break;
  return got;
}

/** The connection dies after what was written has had time to arrive: a gateway lost mid-stream. */
const dropSoon = (hit: Hit): void => void setTimeout(() => hit.res.socket?.destroy(), 50);

const brief = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.key}=${e.value}@${e.revision}`);

describe('SDK watch', () => {
  it('yields puts and deletes with their revisions; progress is not yielded but reported', async () => {
    a.steps = [
      (hit) => {
        openSse(hit);
        put(hit, 'p/a', '1', 5);
        sendSse(hit, 'progress', 6, { revision: 6 });
        sendSse(hit, 'delete', 7, { key: 'p/a', value: null, revision: 7, prevValue: '1' });
      },
    ];
    const progress: number[] = [];
    const events = await take(client().watch({ prefix: 'p/' }, { fromRevision: 5, onProgress: (r) => progress.push(r) }), 2);
    expect(events).toEqual([
      { type: 'put', key: 'p/a', value: '1', revision: 5 },
      { type: 'delete', key: 'p/a', value: null, revision: 7, prevValue: '1' },
    ]);
    expect(progress).toEqual([6]);
    expect(a.hits[0].path).toBe('/v1/watch');
    expect(Object.fromEntries(a.hits[0].query)).toEqual({ prefix: 'p/', fromRevision: '5' });
    expect(a.hits[0].headers.accept).toBe('text/event-stream');
    expect(a.hits[0].headers['last-event-id']).toBeUndefined();
  });

  it('cut in the middle of a revision: resumes at the next gateway before it and drops what it had', async () => {
    // Revision 5 is a transaction of three keys; the first gateway is lost after two of them.
    a.steps = [
      (hit) => {
        openSse(hit);
        put(hit, 'p/a', 'x', 5);
        put(hit, 'p/b', 'x', 5);
        dropSoon(hit);
      },
    ];
    b.steps = [
      (hit) => {
        openSse(hit);
        for (const k of ['p/a', 'p/b', 'p/c']) put(hit, k, 'x', 5);
        put(hit, 'p/d', 'y', 6);
      },
    ];
    const events = await take(client().watch({ prefix: 'p/' }, { fromRevision: 5 }), 4);
    expect(brief(events)).toEqual(['put p/a=x@5', 'put p/b=x@5', 'put p/c=x@5', 'put p/d=y@6']);
    expect(b.hits[0].headers['last-event-id']).toBe('4');
    expect(b.hits[0].query.has('fromRevision')).toBe(false); // the header alone says where
  });

  it('a progress report completes the revision before it: the resume point moves to it', async () => {
    a.steps = [
      (hit) => {
        openSse(hit);
        put(hit, 'p/a', '1', 5);
        sendSse(hit, 'progress', 9, { revision: 9 });
        dropSoon(hit);
      },
    ];
    b.steps = [(hit) => (openSse(hit), put(hit, 'p/z', '2', 10))];
    expect(brief(await take(client().watch({ prefix: 'p/' }, { fromRevision: 5 }), 2))).toEqual(['put p/a=1@5', 'put p/z=2@10']);
    expect(b.hits[0].headers['last-event-id']).toBe('9');
  });

  it('a transaction writing one key twice gives two events, also across a reconnect', async () => {
    a.steps = [(hit) => (openSse(hit), put(hit, 'k', 'v1', 5), dropSoon(hit))];
    b.steps = [(hit) => (openSse(hit), put(hit, 'k', 'v1', 5), put(hit, 'k', 'v2', 5), put(hit, 'k', 'v3', 6))];
    expect(brief(await take(client().watch({ key: 'k' }, { fromRevision: 5 }), 3))).toEqual(['put k=v1@5', 'put k=v2@5', 'put k=v3@6']);
  });

  it('a stream the server ends is reopened too; resuming after a complete revision repeats nothing', async () => {
    a.steps = [(hit) => (openSse(hit), put(hit, 'k', '1', 3), put(hit, 'k', '2', 4), hit.res.end())];
    b.steps = [(hit) => (openSse(hit), put(hit, 'k', '2', 4), put(hit, 'k', '3', 8))];
    expect(brief(await take(client().watch({ key: 'k' }, { fromRevision: 1 }), 3))).toEqual(['put k=1@3', 'put k=2@4', 'put k=3@8']);
    expect(b.hits[0].headers['last-event-id']).toBe('3');
  });

  it('"from now" is pinned first to the revision a read returns, so a reconnect cannot skip', async () => {
    a.steps = [
      (hit) => json(hit, 200, { items: [], next: null, revision: 41 }),
      (hit) => (openSse(hit), dropSoon(hit)), // lost before any event or progress
    ];
    b.steps = [(hit) => (openSse(hit), put(hit, 'k', 'v', 42))];
    expect(brief(await take(client().watch({ key: 'k' }), 1))).toEqual(['put k=v@42']);
    expect([a.hits[0].path, Object.fromEntries(a.hits[0].query)]).toEqual(['/v1/kv', { prefix: 'k', limit: '1' }]);
    expect(Object.fromEntries(a.hits[1].query)).toEqual({ key: 'k' });
    expect(a.hits[1].headers['last-event-id']).toBe('41');
    expect(b.hits[0].headers['last-event-id']).toBe('41');
  });

  it('5xx and no gateway at all are retried at the next endpoint, from the same start', async () => {
    // a: 503; the dead one; b: the connection lost before an answer; a again: the stream.
    a.steps = [(hit) => json(hit, 503, problem(503)), (hit) => (openSse(hit), put(hit, 'k', 'v', 3))];
    b.steps = [(hit) => hit.res.socket?.destroy()];
    const events = await take(client([a.url, 'http://127.0.0.1:1', b.url]).watch({ key: 'k' }, { fromRevision: 3 }), 1);
    expect(brief(events)).toEqual(['put k=v@3']);
    expect([...a.hits, ...b.hits].map((h) => h.query.get('fromRevision'))).toEqual(['3', '3', '3']);
  });

  it('a silent stream (no progress within idleTimeoutMs) is taken for dead and reopened', async () => {
    a.steps = [openSse];
    b.steps = [(hit) => (openSse(hit), put(hit, 'k', 'v', 3))];
    const t0 = Date.now();
    expect(brief(await take(client().watch({ key: 'k' }, { fromRevision: 3, idleTimeoutMs: 300 }), 1))).toEqual(['put k=v@3']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    await a.hits[0].closed; // the client closed the silent one
  });

  it('410 at the start ends it with SynodCompactedError, without retrying', async () => {
    a.steps = [(hit) => json(hit, 410, problem(410, { compactRevision: 12 }))];
    const err = await take(client().watch({ prefix: '' }, { fromRevision: 2 }), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodCompactedError);
    expect(err).toMatchObject({ status: 410, compactRevision: 12 });
    expect(a.hits.length + b.hits.length).toBe(1);
  });

  it('`compacted` mid-stream: the events before it, then SynodCompactedError', async () => {
    a.steps = [(hit) => (openSse(hit), put(hit, 'k', 'v', 3), sendSse(hit, 'compacted', 3, { compactRevision: 20 }), hit.res.end())];
    const got: WatchEvent[] = [];
    const err = await (async () => {
      for await (const e of client().watch({ key: 'k' }, { fromRevision: 3 })) got.push(e);
    })().catch((e: unknown) => e);
    expect(brief(got)).toEqual(['put k=v@3']);
    expect(err).toBeInstanceOf(SynodCompactedError);
    expect((err as SynodCompactedError).compactRevision).toBe(20);
  });

  it('another 4xx is the answer: SynodError with its problem, no retry', async () => {
    a.steps = [(hit) => json(hit, 400, problem(400, { field: 'prefix' }))];
    const err = await take(client().watch({ prefix: 'x' }, { fromRevision: 1 }), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodError);
    expect((err as SynodError).problem?.field).toBe('prefix');
    expect(a.hits.length + b.hits.length).toBe(1);
  });

  it('no gateway for deadlineMs: SynodUnavailableError', async () => {
    const err = await take(client(['http://127.0.0.1:1'], 300).watch({ key: 'k' }), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodUnavailableError);
    expect((err as Error).message).toContain('no gateway could serve the watch');
  });

  it('break closes the request', async () => {
    a.steps = [(hit) => (openSse(hit), put(hit, 'k', 'v', 3))];
    await take(client().watch({ key: 'k' }, { fromRevision: 3 }), 1);
    await a.hits[0].closed;
  });

  it('return() while a next() waits on a quiet stream ends both at once and closes the request', async () => {
    a.steps = [openSse];
    const it = client().watch({ key: 'k' }, { fromRevision: 3 });
    const pending = it.next();
    while (a.hits.length === 0) await new Promise((r) => setTimeout(r, 10));
    await expect(it.return!()).resolves.toEqual({ done: true, value: undefined });
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await a.hits[0].closed;
  });

  it("the caller's signal ends it with an AbortError and closes the request", async () => {
    a.steps = [openSse];
    const ac = new AbortController();
    const done = take(client().watch({ key: 'k' }, { fromRevision: 3, signal: ac.signal }), 1).catch((e: unknown) => e);
    while (a.hits.length === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    expect(await done).toMatchObject({ name: 'AbortError' });
    await a.hits[0].closed;
  });

  it('events cut anywhere by the network, even inside a UTF-8 character, arrive whole', async () => {
    const bytes = Buffer.from(`id: 3\r\nevent: put\r\ndata: ${JSON.stringify({ key: 'k', value: 'é✓ \n ok', revision: 3 })}\r\n\r\n`);
    a.steps = [
      (hit) => {
        openSse(hit);
        let i = 0;
        const next = (): void => void (i < bytes.length && (hit.res.write(bytes.subarray(i, ++i)), setImmediate(next)));
        next();
      },
    ];
    expect(await take(client().watch({ key: 'k' }, { fromRevision: 3 }), 1)).toEqual([{ type: 'put', key: 'k', value: 'é✓ \n ok', revision: 3 }]);
  });
});
