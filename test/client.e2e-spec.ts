import { SynodClient, SynodError } from '@app/client';
import { clusterForSuite, type TestCluster, waitFor } from './support/cluster';

/** The SDK (libs/client) against a real Raft cluster: the API, pages, failover, and the retry rules. */
describe('SDK against a real cluster', () => {
  const cluster = clusterForSuite(['--protocol', 'raft']);
  let c: TestCluster;
  let client: SynodClient;

  beforeAll(() => {
    c = cluster();
    // The first endpoint answers nothing (port 1): every call must fail over to the real one.
    client = new SynodClient({ endpoints: ['http://127.0.0.1:1', c.url], clientId: `e2e-${process.pid}` });
  });

  it('put, get, cas, delete, with revisions', async () => {
    const put = await client.put('sdk/a', 'one');
    expect(put).toEqual({ key: 'sdk/a', value: 'one', revision: expect.any(Number) });
    expect(await client.get('sdk/a')).toEqual({
      key: 'sdk/a',
      value: 'one',
      revision: put.revision,
      createRevision: put.revision,
      modRevision: put.revision,
      version: 1,
    });
    expect(await client.cas('sdk/a', 'nope', 'x')).toMatchObject({ succeeded: false, value: 'one' });
    const cas = await client.cas('sdk/a', 'one', 'two');
    expect(cas).toMatchObject({ succeeded: true, value: 'two' });
    expect(await client.get('sdk/a', { consistency: 'stale' })).not.toBeNull();
    expect(await client.get('sdk/a')).toMatchObject({ version: 2, createRevision: put.revision, modRevision: cas.revision });
    expect(await client.delete('sdk/a')).toMatchObject({ deleted: true });
    expect(await client.get('sdk/a')).toBeNull();
  }, 60_000);

  it('range walks every key under a prefix across pages', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `sdk/r/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => client.put(k, 'v')));
    const seen: string[] = [];
    for await (const item of client.range('sdk/r/', { pageSize: 40 })) seen.push(item.key);
    expect(seen).toEqual(keys);
  }, 60_000);

  it('an error the retries cannot change is thrown with its problem details', async () => {
    const err = await client.put('', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodError);
    // An empty path segment is no route: 404 from the gateway.
    expect((err as SynodError).status).toBeGreaterThanOrEqual(400);
    const tooBig = await client.put('sdk/big', 'v'.repeat(70_000)).catch((e: unknown) => e);
    expect((tooBig as SynodError).status).toBe(413);
    expect((tooBig as SynodError).problem?.field).toBe('value');
  }, 30_000);

  it('rides out a lost quorum: 503s are retried after Retry-After, and the write lands once', async () => {
    const leader = await c.waitForLeader();
    const followers = ['n1', 'n2', 'n3'].filter((id) => id !== leader);
    // An admin call can be refused for a moment (502: e.g. the gateway has not yet heard a
    // replica's new incarnation on the bus); what matters is the state it leads to, so ask again.
    const until = (action: 'kill' | 'revive', ready: number, what: string) =>
      waitFor(
        async () => {
          for (const id of followers) await c.admin(id, action);
          return (await c.http('GET', '/health/ready')).status === ready ? true : null;
        },
        20_000,
        what,
      );
    await until('kill', 503, 'the gateway to see no quorum');
    const pending = client.put('sdk/outage', 'after');
    await new Promise((r) => setTimeout(r, 1500));
    await until('revive', 200, 'the quorum back');
    const put = await pending;
    expect(put.value).toBe('after');
    expect(await client.get('sdk/outage')).toMatchObject({ value: 'after', version: 1 });
  }, 60_000);
});
