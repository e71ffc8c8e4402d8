import { Packr } from 'msgpackr';
import type { Entry, HardState, PersistentState, Ready, Snapshot } from '@app/consensus/raft';
import type { PersistBatch, StoredState } from '@app/storage';

/** Raft's records in storage: msgpack of the core's plain objects (binary data stays binary). */
const packr = new Packr({ useRecords: false, moreTypes: false });

export function toPersistBatch(rd: Ready): PersistBatch | null {
  const batch: PersistBatch = {};
  if (rd.snapshot) batch.snapshot = { index: rd.snapshot.lastIncludedIndex, data: encodeSnapshot(rd.snapshot) };
  if (rd.hardState) batch.hardState = packr.pack(rd.hardState);
  if (rd.entries.length > 0) batch.records = rd.entries.map((e) => ({ index: e.index, data: packr.pack(e) }));
  return batch.snapshot || batch.hardState || batch.records ? batch : null;
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  return packr.pack(s);
}

export function fromStoredState(st: StoredState): PersistentState {
  const hardState: HardState = st.hardState ? (packr.unpack(st.hardState) as HardState) : { currentTerm: 0, votedFor: null, commitIndex: 0 };
  const snapshot = st.snapshot ? (packr.unpack(st.snapshot.data) as Snapshot) : null;
  const entries = st.records.map((r) => normalizeEntry(packr.unpack(r.data) as Entry));
  if (snapshot) snapshot.data = toBytes(snapshot.data);
  return { hardState, snapshot, entries };
}

/** msgpack gives Buffers back; the core and state machine take any Uint8Array. */
function normalizeEntry(e: Entry): Entry {
  return { index: e.index, term: e.term, type: e.type, data: e.data === null || e.data === undefined ? null : toBytes(e.data) };
}

function toBytes(x: unknown): Uint8Array {
  if (x instanceof Uint8Array) return x;
  throw new Error('raft codec: expected bytes');
}
