import { Packr } from 'msgpackr';
import type { Entry, HardState, PersistentState, Ready, Snapshot } from '@app/consensus/raft';
import type { PersistBatch, StoredState } from '@app/storage';

/** Raft's records in storage: msgpack of the core's plain objects (binary data stays binary). */
const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * What of a Ready must reach the disk before its messages go out. Like etcd's MustSync, a Ready whose
 * only change is the commit index needs no write: commitIndex is volatile in Raft (a restarted node
 * learns it again), so it is saved only along with entries, term or vote.
 */
export function toPersistBatch(rd: Ready, stored: HardState): PersistBatch | null {
  const hs = rd.hardState;
  const mustSync = rd.snapshot !== null || rd.entries.length > 0 || (hs !== null && (hs.currentTerm !== stored.currentTerm || hs.votedFor !== stored.votedFor));
  if (!mustSync) return null;
  const batch: PersistBatch = {};
  if (rd.snapshot) batch.snapshot = { index: rd.snapshot.lastIncludedIndex, data: encodeSnapshot(rd.snapshot) };
  if (hs) batch.hardState = packr.pack(hs);
  if (rd.entries.length > 0) batch.records = rd.entries.map((e) => ({ index: e.index, data: packr.pack(e) }));
  return batch;
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
