import { KvStateMachine, decodeRequest, encodeRequest, type KvCommand, type KvRequest, type KvResult } from './index';

let nextId = 0;
const req = (cmd: KvCommand, id = `l-${++nextId}`): KvRequest => ({ id, ts: 1, cmd });

function store(opts = {}) {
  const sm = new KvStateMachine(opts);
  const run = (cmd: KvCommand): KvResult => sm.apply(sm.appliedRevision + 1, req(cmd));
  return { sm, run };
}

describe('leases', () => {
  it('grant gives an id; keys put with it go when it is revoked, all in one revision', () => {
    const { sm, run } = store();
    const grant = run({ op: 'lease-grant', ttlSeconds: 10 });
    expect(grant).toMatchObject({ op: 'lease-grant', ttlSeconds: 10 });
    const id = (grant as { id: string }).id;
    run({ op: 'put', key: 'a', value: '1', lease: id });
    run({ op: 'put', key: 'b', value: '1', lease: id });
    run({ op: 'put', key: 'c', value: '1' });
    expect(sm.get('a')).toMatchObject({ lease: id });
    expect(sm.lease(id)).toMatchObject({ ttlSeconds: 10, keys: ['a', 'b'] });
    const revoke = run({ op: 'lease-revoke', id });
    expect(revoke).toMatchObject({ op: 'lease-revoke', found: true, deleted: ['a', 'b'] });
    expect(sm.get('a')).toBeNull();
    expect(sm.get('c')).not.toBeNull();
    const events = sm.changesSince(revoke.revision - 1, () => true, 100);
    expect(Array.isArray(events) && events.map((e) => `${e.revision}:${e.key}:${e.value}`)).toEqual([`${revoke.revision}:a:null`, `${revoke.revision}:b:null`]);
    expect(sm.lease(id)).toBeNull();
    expect(run({ op: 'lease-keepalive', id })).toMatchObject({ found: false });
  });

  it('a put naming a missing lease applies nothing, alone or in a transaction', () => {
    const { sm, run } = store();
    expect(run({ op: 'put', key: 'a', value: '1', lease: 'nope' })).toMatchObject({ op: 'no-lease', id: 'nope' });
    const txn = run({
      op: 'txn',
      compare: [],
      success: [
        { op: 'put', key: 'x', value: '1' },
        { op: 'put', key: 'y', value: '1', lease: 'nope' },
      ],
      failure: [],
    });
    expect(txn).toMatchObject({ op: 'no-lease', id: 'nope' });
    expect(sm.get('a')).toBeNull();
    expect(sm.get('x')).toBeNull();
  });

  it('a put without a lease detaches the key; deleting it detaches it too', () => {
    const { sm, run } = store();
    const { id } = run({ op: 'lease-grant', ttlSeconds: 5 }) as { id: string };
    run({ op: 'put', key: 'a', value: '1', lease: id });
    run({ op: 'put', key: 'a', value: '2' });
    run({ op: 'put', key: 'b', value: '1', lease: id });
    run({ op: 'delete', key: 'b' });
    expect(sm.lease(id)?.keys).toEqual([]);
    expect(run({ op: 'lease-revoke', id })).toMatchObject({ deleted: [] });
    expect(sm.get('a')).toMatchObject({ value: '2' });
    expect(sm.get('a')?.lease).toBeUndefined();
  });

  it('expires on a quorum of votes about its last renewal; a vote from before a keepalive is void', () => {
    const { sm, run } = store({ leaseExpireQuorum: 2 });
    const { id, revision: granted } = run({ op: 'lease-grant', ttlSeconds: 5 }) as { id: string; revision: number };
    run({ op: 'put', key: 'k', value: 'v', lease: id });
    expect(run({ op: 'lease-expire', id, renewedAt: granted, voter: 'n1' })).toMatchObject({ expired: false });
    expect(run({ op: 'lease-expire', id, renewedAt: granted, voter: 'n1' })).toMatchObject({ expired: false }); // the same voter twice
    const renewed = run({ op: 'lease-keepalive', id });
    expect(renewed).toMatchObject({ found: true, ttlSeconds: 5 });
    // n2's vote is about the grant, not the keepalive: it does not count, nor does n1's older one.
    expect(run({ op: 'lease-expire', id, renewedAt: granted, voter: 'n2' })).toMatchObject({ expired: false });
    expect(sm.lease(id)).toMatchObject({ renewedAt: renewed.revision });
    expect(run({ op: 'lease-expire', id, renewedAt: renewed.revision, voter: 'n2' })).toMatchObject({ expired: false });
    expect(run({ op: 'lease-expire', id, renewedAt: renewed.revision, voter: 'n3' })).toMatchObject({ expired: true, deleted: ['k'] });
    expect(sm.get('k')).toBeNull();
  });

  it('a transaction that read a leased key is remembered with the lease: a restored replica has the same digest and answers a retry alike', () => {
    const { sm, run } = store();
    const { id } = run({ op: 'lease-grant', ttlSeconds: 5 }) as { id: string };
    run({ op: 'put', key: 'k', value: 'v', lease: id });
    const t = req(
      {
        op: 'txn',
        compare: [],
        success: [
          { op: 'get', key: 'k' },
          { op: 'range', prefix: '', limit: 5 },
        ],
        failure: [],
      },
      'c/1',
    );
    const first = sm.apply(sm.appliedRevision + 1, t);
    expect(first).toMatchObject({ results: [{ item: { lease: id } }, { items: [{ lease: id }] }] });
    const r = KvStateMachine.restore(sm.snapshot());
    expect(r.digest()).toBe(sm.digest());
    expect(r.apply(r.appliedRevision + 1, t)).toEqual(first);
  });

  it('a cas keeps the key on its lease', () => {
    const { sm, run } = store();
    const { id } = run({ op: 'lease-grant', ttlSeconds: 5 }) as { id: string };
    run({ op: 'put', key: 'k', value: 'v', lease: id });
    expect(run({ op: 'cas', key: 'k', expected: 'v', value: 'w' })).toMatchObject({ succeeded: true });
    expect(sm.get('k')).toMatchObject({ value: 'w', lease: id });
    expect(run({ op: 'lease-revoke', id })).toMatchObject({ deleted: ['k'] });
  });

  it('leases, attachments and votes survive a snapshot (same digest), and the lease ops round-trip the log encoding', () => {
    const { sm, run } = store({ leaseExpireQuorum: 2 });
    const { id, revision } = run({ op: 'lease-grant', ttlSeconds: 7 }) as { id: string; revision: number };
    run({ op: 'put', key: 'a', value: '1', lease: id });
    run({ op: 'lease-expire', id, renewedAt: revision, voter: 'n1' });
    const r = KvStateMachine.restore(sm.snapshot(), { leaseExpireQuorum: 2 });
    expect(r.digest()).toBe(sm.digest());
    expect(r.lease(id)).toEqual(sm.lease(id));
    expect(r.apply(r.appliedRevision + 1, req({ op: 'lease-expire', id, renewedAt: revision, voter: 'n2' }))).toMatchObject({ expired: true, deleted: ['a'] });
    for (const cmd of [
      { op: 'lease-grant', ttlSeconds: 3 },
      { op: 'lease-keepalive', id: 'x' },
      { op: 'lease-revoke', id: 'x' },
      { op: 'lease-expire', id: 'x', renewedAt: 4, voter: 'n1' },
      { op: 'put', key: 'k', value: 'v', lease: 'x' },
    ] as KvCommand[]) {
      const q = req(cmd);
      expect(decodeRequest(encodeRequest(q))).toEqual(q);
    }
    expect(() => encodeRequest(req({ op: 'lease-grant', ttlSeconds: 0 }))).toThrow(/ttlSeconds/);
  });
});
