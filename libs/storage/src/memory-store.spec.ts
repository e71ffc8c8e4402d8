import { MemoryStore } from './memory-store';
import { durableStoreContract } from './store.contract';

durableStoreContract('MemoryStore', () => {
  const disks = new Map<string, MemoryStore>();
  return {
    async open(node) {
      // The instance is the disk: reopening a node hands back the same one.
      if (!disks.has(node)) disks.set(node, new MemoryStore());
      return disks.get(node)!;
    },
  };
});

describe('MemoryStore sync twins', () => {
  it('persistSync / compactSync / loadSync work without awaiting, and report positions', () => {
    const store = new MemoryStore();
    const data = (s: string) => new TextEncoder().encode(s);
    store.persistSync({ hardState: data('h'), records: [1, 2, 3, 4].map((index) => ({ index, data: data(`e${index}`) })) });
    store.compactSync({ index: 2, data: data('s2') });
    expect(store.snapshotIndex).toBe(2);
    expect(store.lastIndex).toBe(4);
    const state = store.loadSync();
    expect(state.records.map((r) => r.index)).toEqual([3, 4]);
    expect(() => store.persistSync({ records: [{ index: 9, data: data('x') }] })).toThrow(/CONFLICT/);
    expect(store.lastIndex).toBe(4);
  });

  it('keeps its data across close(), like a disk across a crash', async () => {
    const store = new MemoryStore();
    await store.persist({ records: [{ index: 1, data: new Uint8Array([1]) }] });
    await store.close();
    expect((await store.load()).records).toHaveLength(1);
  });
});
