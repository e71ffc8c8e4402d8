import { SynodClient } from './client';
import { SynodCompactedError, SynodError } from './errors';
import { json, problem, ScriptedServer } from './testing/scripted-server';

/** Past reads and compaction: the requests the client makes and how it takes the answers. */
describe('SDK revisions', () => {
  let server: ScriptedServer;
  let client: SynodClient;
  beforeAll(async () => {
    server = await ScriptedServer.start();
    client = new SynodClient({ endpoints: [server.url], clientId: 'c' });
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  const item = { key: 'a/b', value: 'old', revision: 3, createRevision: 3, modRevision: 3, version: 1 };

  it('get(key, { revision }) asks for the key at that revision; 404 (absent then) is null', async () => {
    server.steps = [(hit) => json(hit, 200, item), (hit) => json(hit, 404, problem(404))];
    expect(await client.get('a/b', { revision: 3 })).toEqual(item);
    expect(await client.get('a/b', { revision: 2, consistency: 'stale' })).toBeNull();
    expect(server.hits.map((h) => `${h.path}?${h.query}`)).toEqual(['/v1/kv/a%2Fb?revision=3', '/v1/kv/a%2Fb?revision=2&consistency=stale']);
  });

  it('410 is a SynodCompactedError carrying compactRevision, whatever the route', async () => {
    server.steps = [(hit) => json(hit, 410, problem(410, { compactRevision: 40 }))];
    const err = await client.get('a/b', { revision: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodCompactedError);
    expect(err).toBeInstanceOf(SynodError);
    expect(err).toMatchObject({ status: 410, compactRevision: 40, message: 'it was 410' });
    expect(server.hits).toHaveLength(1);
  });

  it('a revision in the future is a SynodError 400', async () => {
    server.steps = [(hit) => json(hit, 400, problem(400, { field: 'revision' }))];
    const err = await client.get('a/b', { revision: 1e9 }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(SynodCompactedError);
    expect(err).toMatchObject({ status: 400, problem: { field: 'revision' } });
  });

  it('compact(revision) POSTs it to /v1/compact, as a write (with an Idempotency-Key)', async () => {
    server.steps = [(hit) => json(hit, 200, { compactRevision: 30, revision: 55 })];
    expect(await client.compact(30)).toEqual({ compactRevision: 30, revision: 55 });
    expect([server.hits[0].method, server.hits[0].path, JSON.parse(server.hits[0].body), server.hits[0].headers['idempotency-key']]).toEqual([
      'POST',
      '/v1/compact',
      { revision: 30 },
      expect.stringMatching(/^c\/\d+$/),
    ]);
  });
});
