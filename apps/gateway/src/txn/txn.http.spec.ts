import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';

jest.setTimeout(30_000);
let redis: TestRedis;
let gw: RunningGateway;
let cluster: Awaited<ReturnType<typeof startFakeCluster>>;
const CLUSTER = 'probe';
beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  cluster = await startFakeCluster(redis.url, CLUSTER, ['n1', 'n2', 'n3']);
  gw = await startGateway({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', MAX_KEY_BYTES: '16', MAX_VALUE_BYTES: '32' }, { requestTimeoutMs: 2000, attemptTimeoutMs: 400 });
  await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
});
afterAll(async () => { await gw?.close(); await cluster?.stop(); await redis?.stop(); });

it('probe', async () => {
  const out: unknown[] = [];
  const p = async (label: string, path: string, body: unknown, headers: Record<string,string> = {}) => { const r = await http(gw.base, 'POST', path, { body, headers }); out.push([label, r.status, r.body ?? r.text]); };
  await p('ok', '/v1/txn', { compare: [{ key: 'a', target: 'version', op: '=', value: 0 }], success: [{ op: 'put', key: 'a', value: '1' }, { op: 'put', key: 'b', value: '2' }, { op: 'get', key: 'a' }, { op: 'range', prefix: '' }], failure: [] });
  await p('empty', '/v1/txn', {});
  await p('badtarget', '/v1/txn', { compare: [{ key: 'a', target: 'foo', op: '=', value: 0 }] });
  await p('badop', '/v1/txn', { success: [{ op: 'incr', key: 'a' }] });
  await p('noop', '/v1/txn', { success: [{ key: 'a' }] });
  await p('notobj', '/v1/txn', { success: [3] });
  await p('dup', '/v1/txn', { success: [{ op: 'put', key: 'a', value: '1' }, { op: 'delete', key: 'a' }] });
  await p('valtype', '/v1/txn', { compare: [{ key: 'a', target: 'version', op: '=', value: '1' }] });
  await p('valtype2', '/v1/txn', { compare: [{ key: 'a', target: 'value', op: '=', value: 1 }] });
  await p('valneg', '/v1/txn', { compare: [{ key: 'a', target: 'version', op: '=', value: -1 }] });
  await p('valmissing', '/v1/txn', { compare: [{ key: 'a', target: 'value', op: '=' }] });
  await p('bigval', '/v1/txn', { success: [{ op: 'put', key: 'a', value: 'x'.repeat(33) }] });
  await p('bigkey', '/v1/txn', { compare: [{ key: 'k'.repeat(17), target: 'value', op: '=', value: null }] });
  await p('limit0', '/v1/txn', { success: [{ op: 'range', prefix: '', limit: 0 }] });
  await p('many', '/v1/txn', { success: Array.from({ length: 129 }, () => ({ op: 'get', key: 'a' })) });
  await p('arr', '/v1/txn', []);
  await p('compact', '/v1/compact', {});
  await p('compact-1', '/v1/compact', { revision: -1 });
  await p('compact1.5', '/v1/compact', { revision: 1.5 });
  await p('compactok', '/v1/compact', { revision: 1 });
  const t = await http(gw.base, 'POST', '/v1/txn', { body: 'hello', headers: { 'content-type': 'text/plain' } }); out.push(['415', t.status, t.body]);
  for (const q of ['revision=1', 'revision=0', 'revision=99', 'revision=abc', 'revision=-1', 'revision=1.5', 'revision=', 'revision=1&revision=2']) { const r = await http(gw.base, 'GET', '/v1/kv/a?' + q); out.push([q, r.status, r.body]); }
  for (const q of ['key=a&prefix=b', 'key=', 'fromRevision=x', 'fromRevision=1&key=' + 'k'.repeat(17)]) { const r = await http(gw.base, 'GET', '/v1/watch?' + q); out.push([q, r.status, r.body]); }
  { const r = await http(gw.base, 'GET', '/v1/watch?prefix=', { headers: { 'last-event-id': 'abc' } }); out.push(['lei', r.status, r.body]); }
  { const r = await http(gw.base, 'GET', '/v1/watch?fromRevision=1', { headers: { 'last-event-id': '0' } }); out.push(['lei0', r.status, r.body]); }
  require('fs').writeFileSync('/tmp/probe/out.json', JSON.stringify(out, null, 1));
});
