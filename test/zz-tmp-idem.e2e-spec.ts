import { TestCluster } from './support/cluster';

// TEMPORARY (helper check, deleted after): the fingerprint crosses both real runtimes.
describe.each([['raft'], ['pbft']])('%s: Idempotency-Key reuse through real replicas', (protocol) => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.start(['--protocol', protocol]);
    await c.waitForLeader();
  }, 120_000);
  afterAll(async () => {
    await c?.stop();
  }, 30_000);

  it('same request → first answer; other request → 422, nothing applied; digests converge', async () => {
    const h = { 'idempotency-key': 'e2e-reuse' };
    const a = await c.putUntilOk('warm', 'up');
    expect(a.status).toBe(200);
    const first = await c.http('PUT', '/v1/kv/idemA', { value: 'a' }, h);
    expect(first.status).toBe(200);
    const again = await c.http('PUT', '/v1/kv/idemA', { value: 'a' }, h);
    expect(again.body).toEqual(first.body);
    const other = await c.http('PUT', '/v1/kv/idemB', { value: 'a' }, h);
    expect(other.status).toBe(422);
    expect(other.body.type).toBe('https://synod.dev/problems/idempotency-key-reused');
    const del = await c.http('DELETE', '/v1/kv/idemA', undefined, h);
    expect(del.status).toBe(422);
    expect((await c.get('idemB')).status).toBe(404);
    expect((await c.get('idemA')).body.value).toBe('a');
    const plain = await c.http('PUT', '/v1/kv/idemA', 'value=x' as any, { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
  }, 60_000);
});
