import { StorageError, StorageErrorCode } from './errors';
import type { DurableStore, LogRecord, PersistBatch, StoredState } from './types';

/** What one implementation provides to the shared contract. */
export interface StoreHarness {
  /**
   * Opens replica `node` of a cluster private to the current test. Opening the same node
   * again must see the same durable state (that is how "reload" is tested).
   */
  open(node: string): Promise<DurableStore>;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);
const rec = (index: number, tag = 'v'): LogRecord => ({ index, data: bytes(`${tag}${index}`) });
const recs = (from: number, to: number, tag = 'v'): LogRecord[] => {
  const out: LogRecord[] = [];
  for (let i = from; i <= to; i++) out.push(rec(i, tag));
  return out;
};

/** A comparable picture of a state: bytes as text, records as [index, text]. */
function view(state: StoredState) {
  return {
    hardState: state.hardState && text(state.hardState),
    snapshot: state.snapshot && { index: state.snapshot.index, data: text(state.snapshot.data) },
    records: state.records.map((r) => [r.index, text(r.data)] as [number, string]),
  };
}
type View = ReturnType<typeof view>;
const pairs = (records: LogRecord[]): [number, string][] => records.map((r) => [r.index, text(r.data)]);

async function expectRejected(p: Promise<unknown>, code: StorageErrorCode): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(StorageError);
  await expect(p).rejects.toMatchObject({ code });
}

/** Defines the jest tests every DurableStore must pass. */
export function durableStoreContract(name: string, makeHarness: () => StoreHarness | Promise<StoreHarness>): void {
  describe(`${name} (DurableStore contract)`, () => {
    let harness: StoreHarness;
    let store: DurableStore;
    /** The same replica opened again: what a restarted process would see. */
    const reloaded = async (): Promise<View> => view(await (await harness.open('n1')).load());

    beforeEach(async () => {
      harness = await makeHarness();
      store = await harness.open('n1');
    });

    it('loads an empty state when nothing was stored', async () => {
      expect(view(await store.load())).toEqual({ hardState: null, snapshot: null, records: [] });
    });

    it('appends records across batches and reloads them in order', async () => {
      await store.persist({ records: recs(1, 3) });
      await store.persist({ records: [rec(4)] });
      await store.persist({ records: recs(5, 7) });
      const expected = { hardState: null, snapshot: null, records: pairs(recs(1, 7)) };
      expect(view(await store.load())).toEqual(expected);
      expect(await reloaded()).toEqual(expected);
    });

    it('stores a hard state alone, leaves the log alone, and keeps the latest', async () => {
      await store.persist({ records: recs(1, 2) });
      await store.persist({ hardState: bytes('term=1') });
      await store.persist({ hardState: bytes('term=2;vote=n3') });
      expect(await reloaded()).toEqual({ hardState: 'term=2;vote=n3', snapshot: null, records: pairs(recs(1, 2)) });
    });

    it('writes a hard state and records in one batch', async () => {
      await store.persist({ hardState: bytes('hs'), records: recs(1, 3) });
      expect(await reloaded()).toEqual({ hardState: 'hs', snapshot: null, records: pairs(recs(1, 3)) });
    });

    it('treats an empty batch as a no-op', async () => {
      await store.persist({ records: recs(1, 2) });
      await store.persist({});
      await store.persist({ records: [] });
      expect((await reloaded()).records).toEqual(pairs(recs(1, 2)));
    });

    it('truncates a conflicting suffix, then appends above it', async () => {
      await store.persist({ records: recs(1, 5) });
      await store.persist({ records: recs(3, 4, 'b') });
      expect((await reloaded()).records).toEqual([...pairs(recs(1, 2)), ...pairs(recs(3, 4, 'b'))]);
      await store.persist({ records: recs(5, 6, 'c') });
      expect((await reloaded()).records).toEqual([...pairs(recs(1, 2)), ...pairs(recs(3, 4, 'b')), ...pairs(recs(5, 6, 'c'))]);
    });

    it('replaces only the last record when the batch starts there', async () => {
      await store.persist({ records: recs(1, 3) });
      await store.persist({ records: [rec(3, 'x')] });
      expect((await reloaded()).records).toEqual([...pairs(recs(1, 2)), [3, 'x3']]);
    });

    it('truncates back to index 1', async () => {
      await store.persist({ records: recs(1, 6) });
      await store.persist({ records: [rec(1, 'b')] });
      expect((await reloaded()).records).toEqual([[1, 'b1']]);
      await store.persist({ records: recs(2, 3, 'c') });
      expect((await reloaded()).records).toEqual([
        [1, 'b1'],
        [2, 'c2'],
        [3, 'c3'],
      ]);
    });

    it('survives many truncations in a row, each below the previous top', async () => {
      const model: string[] = []; // model[i] is the text of index i+1
      const apply = async (first: number, count: number, tag: string): Promise<void> => {
        const batch = recs(first, first + count - 1, tag);
        await store.persist({ records: batch });
        model.length = first - 1;
        for (const r of batch) model.push(text(r.data));
        const expected = model.map((t, i) => [i + 1, t]);
        expect(view(await store.load()).records).toEqual(expected);
      };
      await apply(1, 10, 'a');
      await apply(4, 3, 'b'); // top 10 -> 6
      await apply(2, 1, 'c'); // top 6 -> 2
      await apply(3, 6, 'd'); // append -> 8
      await apply(1, 5, 'e'); // back to 1, top 8 -> 5
      await apply(5, 1, 'f'); // replace the last one
      await apply(3, 9, 'g'); // below the top, but ends above it
      await apply(1, 1, 'h');
      await apply(1, 1, 'i');
      await apply(2, 4, 'j');
      expect((await reloaded()).records).toEqual(model.map((t, i) => [i + 1, t]));
    });

    it('installs a snapshot: drops every record, keeps the hard state, and appends continue above it', async () => {
      await store.persist({ hardState: bytes('hs1'), records: recs(1, 5) });
      await store.persist({ snapshot: { index: 10, data: bytes('snap10') } });
      expect(await reloaded()).toEqual({ hardState: 'hs1', snapshot: { index: 10, data: 'snap10' }, records: [] });
      await store.persist({ records: recs(11, 12) });
      expect(await reloaded()).toEqual({ hardState: 'hs1', snapshot: { index: 10, data: 'snap10' }, records: pairs(recs(11, 12)) });
      await store.persist({ records: [rec(11, 'b')] }); // truncation right above the snapshot
      expect((await reloaded()).records).toEqual([[11, 'b11']]);
    });

    it('installs a snapshot below the last index and still drops every record', async () => {
      await store.persist({ records: recs(1, 8) });
      await store.persist({ snapshot: { index: 3, data: bytes('s3') }, hardState: bytes('hs'), records: recs(4, 5, 'n') });
      expect(await reloaded()).toEqual({ hardState: 'hs', snapshot: { index: 3, data: 's3' }, records: pairs(recs(4, 5, 'n')) });
    });

    it('installs a snapshot over an earlier one', async () => {
      await store.persist({ snapshot: { index: 5, data: bytes('s5') }, records: recs(6, 9) });
      await store.persist({ snapshot: { index: 20, data: bytes('s20') }, records: recs(21, 21) });
      expect(await reloaded()).toEqual({ hardState: null, snapshot: { index: 20, data: 's20' }, records: [[21, 'v21']] });
    });

    it('compacts: drops records <= the snapshot index and keeps the rest', async () => {
      await store.persist({ hardState: bytes('hs'), records: recs(1, 10) });
      await store.compact({ index: 4, data: bytes('s4') });
      expect(await reloaded()).toEqual({ hardState: 'hs', snapshot: { index: 4, data: 's4' }, records: pairs(recs(5, 10)) });
      await store.compact({ index: 4, data: bytes('s4b') }); // same index: replaces the data, drops nothing
      await store.compact({ index: 7, data: bytes('s7') });
      expect(await reloaded()).toEqual({ hardState: 'hs', snapshot: { index: 7, data: 's7' }, records: pairs(recs(8, 10)) });
      await store.persist({ records: recs(9, 11, 'b') }); // truncation after compaction
      expect((await reloaded()).records).toEqual([[8, 'v8'], ...pairs(recs(9, 11, 'b'))]);
      await store.persist({ records: recs(8, 8, 'c') }); // the whole log, right above the snapshot
      expect((await reloaded()).records).toEqual([[8, 'c8']]);
    });

    it('compacts the whole log, and at or beyond its last index', async () => {
      await store.persist({ records: recs(1, 5) });
      await store.compact({ index: 5, data: bytes('s5') });
      expect(await reloaded()).toEqual({ hardState: null, snapshot: { index: 5, data: 's5' }, records: [] });
      await store.compact({ index: 9, data: bytes('s9') });
      expect(await reloaded()).toEqual({ hardState: null, snapshot: { index: 9, data: 's9' }, records: [] });
      await expectRejected(store.persist({ records: [rec(6)] }), 'CONFLICT');
      await store.persist({ records: recs(10, 11) });
      expect((await reloaded()).records).toEqual(pairs(recs(10, 11)));
    });

    it('refuses a compaction that would move the snapshot back', async () => {
      await store.persist({ records: recs(1, 10) });
      await store.compact({ index: 6, data: bytes('s6') });
      await expectRejected(store.compact({ index: 5, data: bytes('s5') }), 'CONFLICT');
      expect(await reloaded()).toEqual({ hardState: null, snapshot: { index: 6, data: 's6' }, records: pairs(recs(7, 10)) });
    });

    it('stores arbitrary bytes: zero bytes, invalid UTF-8, empty and large payloads', async () => {
      const zeros = new Uint8Array([0, 0, 255, 0, 13, 10, 0xc3, 0x28, 0]);
      const empty = new Uint8Array(0);
      const large = new Uint8Array(300_000).map((_, i) => (i * 131 + (i >> 8)) & 0xff);
      const offsetView = new Uint8Array([9, 9, 1, 0, 2, 9]).subarray(2, 5); // a view with a byteOffset
      await store.persist({
        hardState: new Uint8Array([0, 1, 0]),
        snapshot: { index: 2, data: new Uint8Array([0, 0xff, 0]) },
        records: [
          { index: 3, data: zeros },
          { index: 4, data: empty },
          { index: 5, data: large },
          { index: 6, data: offsetView },
        ],
      });
      const state = await (await harness.open('n1')).load();
      expect(Array.from(state.hardState ?? [])).toEqual([0, 1, 0]);
      expect(state.snapshot?.index).toBe(2);
      expect(Array.from(state.snapshot?.data ?? [])).toEqual([0, 0xff, 0]);
      expect(state.records.map((r) => r.index)).toEqual([3, 4, 5, 6]);
      expect(Array.from(state.records[0].data)).toEqual(Array.from(zeros));
      expect(state.records[1].data.length).toBe(0);
      expect(Buffer.from(state.records[2].data).equals(Buffer.from(large))).toBe(true);
      expect(Array.from(state.records[3].data)).toEqual([1, 0, 2]);
    });

    it('keeps its own copy of the bytes', async () => {
      const data = bytes('abc');
      await store.persist({ records: [{ index: 1, data }] });
      data[0] = 0x7a;
      const first = await store.load();
      first.records[0].data[1] = 0x7a;
      expect(view(await store.load()).records).toEqual([[1, 'abc']]);
    });

    it('loads a long log completely and in order', async () => {
      for (let from = 1; from <= 1200; from += 200) await store.persist({ records: recs(from, from + 199) });
      const state = await (await harness.open('n1')).load();
      expect(state.records).toHaveLength(1200);
      expect(state.records.every((r, i) => r.index === i + 1 && text(r.data) === `v${i + 1}`)).toBe(true);
    });

    describe('atomicity: a bad batch is rejected whole and the store is unchanged', () => {
      let before: View;
      beforeEach(async () => {
        await store.persist({ hardState: bytes('hs0'), records: recs(1, 6) });
        await store.compact({ index: 2, data: bytes('s2') });
        before = await reloaded();
      });
      const rejects = async (batch: PersistBatch, code: StorageErrorCode): Promise<void> => {
        await expectRejected(store.persist(batch), code);
        expect(await reloaded()).toEqual(before);
      };

      it('non-contiguous records', () =>
        rejects({ hardState: bytes('hs1'), snapshot: { index: 9, data: bytes('s9') }, records: [rec(7), rec(9)] }, 'INVALID_BATCH'));
      it('descending records', () => rejects({ hardState: bytes('hs1'), records: [rec(5), rec(4)] }, 'INVALID_BATCH'));
      it('an index below 1 or not an integer', async () => {
        await rejects({ hardState: bytes('hs1'), records: [rec(0)] }, 'INVALID_BATCH');
        await rejects({ hardState: bytes('hs1'), records: [{ index: 3.5, data: bytes('x') }] }, 'INVALID_BATCH');
      });
      it('data that is not bytes', () =>
        rejects({ hardState: bytes('hs1'), records: [rec(7), { index: 8, data: 'text' as unknown as Uint8Array }] }, 'INVALID_BATCH'));
      it('a gap after the last index', () => rejects({ hardState: bytes('hs1'), records: recs(8, 9) }, 'CONFLICT'));
      it('records overwriting the snapshot', () => rejects({ hardState: bytes('hs1'), records: recs(2, 4, 'x') }, 'CONFLICT'));
      it('a snapshot whose records do not start right above it', async () => {
        await rejects({ snapshot: { index: 20, data: bytes('s20') }, hardState: bytes('hs1'), records: [rec(7)] }, 'CONFLICT');
        await rejects({ snapshot: { index: 20, data: bytes('s20') }, records: [rec(20)] }, 'CONFLICT');
      });
    });

    describe('slots beside the log', () => {
      const slotView = async (st: DurableStore) => pairs((await st.load()).slots);

      it('upserts and drops slots by index, in the same atomic batch as the log', async () => {
        await store.persist({ records: recs(1, 2), slots: { put: [rec(5, 'a'), rec(3, 'a'), rec(4, 'a')] } });
        await store.persist({ slots: { put: [rec(4, 'b')], drop: [3] } });
        expect(await slotView(store)).toEqual([
          [4, 'b4'],
          [5, 'a5'],
        ]);
        expect(await slotView(await harness.open('n1'))).toEqual([
          [4, 'b4'],
          [5, 'a5'],
        ]);
        expect(view(await store.load()).records).toEqual(pairs(recs(1, 2)));
      });

      it('drops slots at or below a snapshot, installed or from compaction, and ignores puts below it', async () => {
        await store.persist({ records: recs(1, 6), slots: { put: [rec(2, 's'), rec(7, 's'), rec(9, 's')] } });
        await store.compact({ index: 3, data: bytes('snap3') });
        expect(await slotView(store)).toEqual([
          [7, 's7'],
          [9, 's9'],
        ]);
        await store.persist({ snapshot: { index: 8, data: bytes('snap8') }, slots: { put: [rec(8, 'x'), rec(10, 'x')] } });
        expect(await slotView(store)).toEqual([
          [9, 's9'],
          [10, 'x10'],
        ]);
      });

      it('a bad slot makes the whole batch fail', async () => {
        await expectRejected(store.persist({ records: recs(1, 1), slots: { put: [{ index: 0, data: bytes('bad') }] } }), 'INVALID_BATCH');
        expect(view(await store.load()).records).toEqual([]);
      });
    });

    it('keeps two replicas apart', async () => {
      const other = await harness.open('n2');
      await store.persist({ hardState: bytes('hs-n1'), records: recs(1, 3, 'a') });
      await other.persist({ hardState: bytes('hs-n2'), records: recs(1, 2, 'b') });
      await other.compact({ index: 1, data: bytes('s-n2') });
      expect(await reloaded()).toEqual({ hardState: 'hs-n1', snapshot: null, records: pairs(recs(1, 3, 'a')) });
      expect(view(await (await harness.open('n2')).load())).toEqual({
        hardState: 'hs-n2',
        snapshot: { index: 1, data: 's-n2' },
        records: [[2, 'b2']],
      });
      await other.destroy();
      expect((await reloaded()).records).toEqual(pairs(recs(1, 3, 'a')));
    });

    it('destroy() empties the store, which then starts again from index 1', async () => {
      await store.persist({ hardState: bytes('hs'), snapshot: { index: 4, data: bytes('s4') }, records: recs(5, 9) });
      await store.destroy();
      expect(await reloaded()).toEqual({ hardState: null, snapshot: null, records: [] });
      await expectRejected(store.persist({ records: [rec(5)] }), 'CONFLICT');
      await store.persist({ records: recs(1, 2) });
      expect((await reloaded()).records).toEqual(pairs(recs(1, 2)));
    });
  });
}
