import { answerQuery, KvStateMachine, decodeRequest, encodeRequest, validateRequest, type KvCommand, type KvRequest, type TxnCommand } from './index';

let nextId = 0;
const req = (cmd: KvCommand, id = `t-${++nextId}`): KvRequest => ({ id, ts: 1, cmd });
const put = (key: string, value: string): KvCommand => ({ op: 'put', key, value });
const txn = (t: Partial<TxnCommand>): TxnCommand => ({ op: 'txn', compare: [], success: [], failure: [], ...t });

describe('transactions', () => {
  it('runs the success branch when every compare holds, at one revision, and says so', () => {
    const sm = new KvStateMachine();
    sm.apply(1, req(put('a', '10')));
    sm.apply(2, req(put('b', '5')));
    const r = sm.apply(
      3,
      req(
        txn({
          compare: [
            { key: 'a', target: 'value', op: '=', value: '10' },
            { key: 'b', target: 'version', op: '=', value: 1 },
          ],
          success: [
            { op: 'put', key: 'a', value: '7' },
            { op: 'put', key: 'b', value: '8' },
            { op: 'get', key: 'a' },
            { op: 'delete', key: 'zz' },
          ],
          failure: [{ op: 'get', key: 'a' }],
        }),
      ),
    );
    expect(r).toEqual({
      op: 'txn',
      succeeded: true,
      revision: 3,
      results: [
        { op: 'put', key: 'a', revision: 3 },
        { op: 'put', key: 'b', revision: 3 },
        { op: 'get', key: 'a', item: { key: 'a', value: '7', revision: 3, createRevision: 1, modRevision: 3, version: 2 } },
        { op: 'delete', key: 'zz', deleted: false, revision: 3 },
      ],
    });
    expect(sm.get('b')).toMatchObject({ value: '8', modRevision: 3, version: 2 });
  });

  it('runs the failure branch when one compare fails, and writes nothing of the success branch', () => {
    const sm = new KvStateMachine();
    sm.apply(1, req(put('a', '10')));
    const r = sm.apply(
      2,
      req(
        txn({
          compare: [{ key: 'a', target: 'modRevision', op: '>', value: 1 }],
          success: [put('x', '1') as never],
          failure: [{ op: 'range', prefix: '', limit: 10 }],
        }),
      ),
    );
    expect(r).toMatchObject({ op: 'txn', succeeded: false, results: [{ op: 'range', prefix: '', items: [{ key: 'a', value: '10' }] }] });
    expect(sm.get('x')).toBeNull();
  });

  it('compares a missing key as value null and zero revisions and version (etcd), and orders null below strings', () => {
    const sm = new KvStateMachine();
    const holds = (c: TxnCommand['compare'][number]): boolean =>
      (sm.apply(sm.appliedRevision + 1, req(txn({ compare: [c] }))) as { succeeded: boolean }).succeeded;
    expect(holds({ key: 'm', target: 'createRevision', op: '=', value: 0 })).toBe(true);
    expect(holds({ key: 'm', target: 'version', op: '<', value: 1 })).toBe(true);
    expect(holds({ key: 'm', target: 'value', op: '=', value: null })).toBe(true);
    expect(holds({ key: 'm', target: 'value', op: '<', value: '' })).toBe(true);
    sm.apply(sm.appliedRevision + 1, req(put('m', 'b')));
    expect(holds({ key: 'm', target: 'value', op: '>', value: 'a' })).toBe(true);
    expect(holds({ key: 'm', target: 'value', op: '!=', value: 'b' })).toBe(false);
    expect(holds({ key: 'm', target: 'value', op: '>', value: null })).toBe(true);
  });

  it('a retry of the same request id gets the first answer, also after a snapshot', () => {
    const sm = new KvStateMachine();
    const t = req(
      txn({
        success: [
          { op: 'put', key: 'k', value: 'v' },
          { op: 'get', key: 'k' },
        ],
      }),
      'c/1',
    );
    const first = sm.apply(1, t);
    const r = KvStateMachine.restore(sm.snapshot());
    expect(r.apply(2, t)).toEqual(first);
    expect(sm.apply(2, t)).toEqual(first);
    expect(r.digest()).toBe(sm.digest());
    expect(r.get('k')).toMatchObject({ version: 1 });
  });

  it('round-trips through the log encoding; malformed transactions are refused with the field named', () => {
    const t = req(
      txn({
        compare: [{ key: 'a', target: 'version', op: '!=', value: 3 }],
        success: [{ op: 'range', prefix: 'p/', limit: 5 }],
        failure: [{ op: 'delete', key: 'a' }],
      }),
    );
    expect(decodeRequest(encodeRequest(t))).toEqual(t);
    const bad = (cmd: unknown): string => {
      try {
        validateRequest({ id: 'x', ts: 1, cmd });
        return 'accepted';
      } catch (e) {
        return (e as { field: string }).field;
      }
    };
    expect(bad({ op: 'txn', compare: [{ key: 'a', target: 'size', op: '=', value: 1 }] })).toBe('cmd.compare[0].target');
    expect(bad({ op: 'txn', compare: [{ key: 'a', target: 'version', op: '=', value: 'x' }] })).toBe('cmd.compare[0].value');
    expect(
      bad({
        op: 'txn',
        success: [
          { op: 'put', key: 'a', value: '1' },
          { op: 'delete', key: 'a' },
        ],
      }),
    ).toBe('cmd.success[1].key');
    expect(bad({ op: 'txn', failure: [{ op: 'range', prefix: 'p', limit: 0 }] })).toBe('cmd.failure[0].limit');
    expect(bad({ op: 'txn', success: { op: 'put' } })).toBe('cmd.success');
    expect(bad({ op: 'txn', success: [{ op: 'cas', key: 'a' }] })).toBe('cmd.success[0].op');
    expect(bad({ op: 'compact', revision: -1 })).toBe('cmd.revision');
  });
});

describe('history: reads in the past, compaction', () => {
  function store(opts = {}): KvStateMachine {
    const sm = new KvStateMachine(opts);
    sm.apply(1, req(put('a', '1')));
    sm.apply(2, req(put('b', '1')));
    sm.apply(4, req(put('a', '2')));
    sm.apply(5, req({ op: 'delete', key: 'a' }));
    sm.apply(7, req(put('a', '3')));
    return sm;
  }

  it('reads a key as it was at any revision since the compaction point', () => {
    const sm = store();
    expect(sm.getAt('a', 0)).toBeNull();
    expect(sm.getAt('a', 1)).toMatchObject({ value: '1', createRevision: 1, modRevision: 1, version: 1 });
    expect(sm.getAt('a', 3)).toMatchObject({ value: '1', modRevision: 1 });
    expect(sm.getAt('a', 4)).toMatchObject({ value: '2', createRevision: 1, modRevision: 4, version: 2 });
    expect(sm.getAt('a', 5)).toBeNull();
    expect(sm.getAt('a', 6)).toBeNull();
    expect(sm.getAt('a', 7)).toMatchObject({ value: '3', createRevision: 7, version: 1 });
    expect(sm.getAt('b', 6)).toMatchObject({ value: '1', modRevision: 2 });
  });

  it('lists the changes after a revision for a key filter, whole revisions, with what each replaced', () => {
    const sm = store();
    sm.apply(
      8,
      req(
        txn({
          success: [
            { op: 'put', key: 'a', value: '4' },
            { op: 'put', key: 'b', value: '2' },
          ],
        }),
      ),
    );
    const all = sm.changesSince(3, () => true, 100);
    expect(Array.isArray(all) && all.map((e) => `${e.revision}:${e.key}=${e.value}<${e.prev?.value ?? '-'}`)).toEqual([
      '4:a=2<1',
      '5:a=null<2',
      '7:a=3<-',
      '8:a=4<3',
      '8:b=2<1',
    ]);
    const onlyB = sm.changesSince(0, (k) => k === 'b', 100);
    expect(Array.isArray(onlyB) && onlyB.map((e) => e.revision)).toEqual([2, 8]);
    // A limit never splits revision 8's two changes.
    const page = sm.changesSince(5, () => true, 2);
    expect(Array.isArray(page) && page.map((e) => e.revision)).toEqual([7, 8, 8]);
  });

  it('a compact command drops history up to its revision: older reads and changes answer compacted', () => {
    const sm = store();
    expect(sm.apply(8, req({ op: 'compact', revision: 4 }))).toMatchObject({ op: 'compact', compactRevision: 4, revision: 8 });
    expect(sm.getAt('a', 3)).toEqual({ compacted: true, compactRevision: 4 });
    expect(sm.getAt('a', 4)).toMatchObject({ value: '2' });
    expect(sm.changesSince(3, () => true, 10)).toEqual({ compacted: true, compactRevision: 4 });
    expect(sm.changesSince(4, () => true, 10)).toHaveLength(2);
    // Never lowered, never past the revision before the command itself.
    expect(sm.apply(9, req({ op: 'compact', revision: 2 }))).toMatchObject({ compactRevision: 4 });
    expect(sm.apply(10, req({ op: 'compact', revision: 1e9 }))).toMatchObject({ compactRevision: 9 });
  });

  it('keeps at most historyEvents changes, compacting whole revisions, the same on every replica', () => {
    const sm = store({ historyEvents: 3 });
    expect(sm.compactRevision).toBe(2);
    expect(sm.getAt('a', 1)).toMatchObject({ compacted: true });
    expect(sm.getAt('b', 2)).toMatchObject({ value: '1' });
    const r = KvStateMachine.restore(sm.snapshot(), { historyEvents: 3 });
    expect(r.digest()).toBe(sm.digest());
    expect(r.compactRevision).toBe(2);
    expect(r.getAt('a', 5)).toBeNull();
    expect(r.getAt('a', 4)).toMatchObject({ value: '2', version: 2 });
  });

  it('a changes query with no limit (or 0) is refused, never a crash (any bus client can send one)', () => {
    const sm = store();
    expect(sm.changesSince(0, () => true, 0)).toEqual([expect.objectContaining({ revision: 1 })]);
    expect(answerQuery(sm, { op: 'changes', after: 0 })).toBeNull();
    expect(answerQuery(sm, { op: 'changes', after: 0, limit: 0 })).toBeNull();
    expect(answerQuery(sm, { op: 'changes', after: 0, limit: 1 })).toMatchObject({ events: [{ revision: 1 }] });
  });

  it('a snapshot carries the history: a restored replica answers the same reads in the past', () => {
    const sm = store();
    const r = KvStateMachine.restore(sm.snapshot());
    for (let rev = 0; rev <= 7; rev++) expect(r.getAt('a', rev)).toEqual(sm.getAt('a', rev));
    expect(r.changesSince(0, () => true, 100)).toEqual(sm.changesSince(0, () => true, 100));
  });
});
