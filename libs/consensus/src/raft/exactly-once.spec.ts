import { decodeRequest, encodeRequest, KvRequest, KvResult, KvStateMachine } from '../kv';
import { TestCluster } from './testing/cluster';

/** Raft + the KV state machine: a request id proposed twice (a client retry) takes effect once. */
describe('exactly-once through Raft', () => {
  it('a retried request id returns the first result and has one effect on every replica', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    const incr: KvRequest = { id: 'req-1', ts: 1, cmd: { op: 'cas', key: 'k', expected: null, value: 'first' } };
    const other: KvRequest = { id: 'req-2', ts: 2, cmd: { op: 'put', key: 'k', value: 'second' } };
    c.node('n1').propose([encodeRequest(incr)]);
    c.node('n1').propose([encodeRequest(other)]);
    c.node('n1').propose([encodeRequest(incr)]); // the retry, after another write
    c.process('n1');
    c.deliver();
    c.tick('n1');
    c.deliver();

    const results = new Map<string, KvResult[]>();
    const digests = new Set<string>();
    for (const id of c.ids) {
      const kv = new KvStateMachine();
      const rs: KvResult[] = [];
      for (const e of c.applied.get(id)!) {
        if (e.type === 'noop') kv.skip(e.index);
        else rs.push(kv.apply(e.index, decodeRequest(e.data!)));
      }
      results.set(id, rs);
      digests.add(kv.digest());
      expect(kv.get('k')?.value).toBe('second');
    }
    expect(digests.size).toBe(1);
    const rs = results.get('n1')!;
    expect(rs).toHaveLength(3);
    expect(rs[0]).toMatchObject({ op: 'cas', succeeded: true, revision: 2 });
    expect(rs[2]).toEqual(rs[0]); // same answer, not a failed second cas
  });
});
