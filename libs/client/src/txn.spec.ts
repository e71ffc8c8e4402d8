import { SynodClient } from './client';
import { json, problem, ScriptedServer } from './testing/scripted-server';
import { op, TxnBuilder, type TxnRequest } from './txn';

/** The transaction builder's body, and what the client sends for it (POST /v1/txn). */
describe('SDK transactions', () => {
  const noSend = () => Promise.reject(new Error('not sent'));

  it('op helpers build the ops of the contract; range carries limit only when given', () => {
    expect([op.put('a', '1'), op.delete('b'), op.get('c'), op.range('p/'), op.range('p/', 10)]).toEqual([
      { op: 'put', key: 'a', value: '1' },
      { op: 'delete', key: 'b' },
      { op: 'get', key: 'c' },
      { op: 'range', prefix: 'p/' },
      { op: 'range', prefix: 'p/', limit: 10 },
    ]);
  });

  it('if / then / else build compare, success and failure, in the order of the calls', () => {
    const body = new TxnBuilder(noSend)
      .if('lock', 'version', '=', 0)
      .if('cfg', 'value', '!=', null)
      .if('cfg', 'modRevision', '<', 9)
      .then(op.put('lock', 'me'))
      .then(op.get('cfg'), op.range('jobs/', 5))
      .else(op.get('lock'))
      .toJSON();
    expect(body).toEqual<TxnRequest>({
      compare: [
        { key: 'lock', target: 'version', op: '=', value: 0 },
        { key: 'cfg', target: 'value', op: '!=', value: null },
        { key: 'cfg', target: 'modRevision', op: '<', value: 9 },
      ],
      success: [op.put('lock', 'me'), op.get('cfg'), op.range('jobs/', 5)],
      failure: [op.get('lock')],
    });
  });

  it('an empty builder is an empty transaction (no comparison: success runs)', () => {
    expect(new TxnBuilder(noSend).toJSON()).toEqual({ compare: [], success: [], failure: [] });
  });

  it('the builder is no promise: awaiting it without commit() fails at once instead of hanging', async () => {
    const b = new TxnBuilder(noSend).if('k', 'version', '>', 0).then(op.delete('k'));
    // What `await b` and `return b` from an async function do: adopt it as a thenable.
    await expect(Promise.resolve().then(() => b as unknown)).rejects.toThrow(/call \.commit\(\)/);
    expect(() => b.else('x' as never)).toThrow(TypeError);
  });

  describe('against an HTTP server', () => {
    let server: ScriptedServer;
    beforeAll(async () => (server = await ScriptedServer.start()));
    afterAll(() => server.close());
    beforeEach(() => server.reset());

    const answer = { succeeded: true, results: [{ op: 'put', key: 'lock', revision: 12 }], revision: 12 };

    it('commit() POSTs the body to /v1/txn with the next Idempotency-Key of the session, and returns the answer', async () => {
      server.steps = [(hit) => json(hit, 200, answer), (hit) => json(hit, 200, answer)];
      const client = new SynodClient({ endpoints: [server.url], clientId: 'c1' });
      const r = await client.txn().if('lock', 'createRevision', '=', 0).then(op.put('lock', 'me')).else(op.get('lock')).commit();
      expect(r).toEqual(answer);
      await client.txnRaw({ compare: [], success: [op.get('x')], failure: [] }, { idempotencyKey: 'order-7' });
      expect(server.hits.map((h) => [h.method, h.path, h.headers['idempotency-key'], h.headers['content-type']])).toEqual([
        ['POST', '/v1/txn', 'c1/1', 'application/json'],
        ['POST', '/v1/txn', 'order-7', 'application/json'],
      ]);
      expect(JSON.parse(server.hits[0].body)).toEqual({
        compare: [{ key: 'lock', target: 'createRevision', op: '=', value: 0 }],
        success: [{ op: 'put', key: 'lock', value: 'me' }],
        failure: [{ op: 'get', key: 'lock' }],
      });
    });

    it('a 504 is retried with the same key, like any write', async () => {
      server.steps = [(hit) => json(hit, 504, problem(504)), (hit) => json(hit, 200, answer)];
      const client = new SynodClient({ endpoints: [server.url], clientId: 'c2' });
      await client.txn().then(op.put('a', '1')).commit();
      expect(server.hits.map((h) => h.headers['idempotency-key'])).toEqual(['c2/1', 'c2/1']);
    });
  });
});
