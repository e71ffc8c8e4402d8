import type { Entry, Message } from '@app/consensus/raft';

/** Bus input is untrusted: accept only well-formed Raft messages (the core assumes the shape). */
export function isRaftMessage(x: unknown): x is Message {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  if (typeof m.from !== 'string' || typeof m.to !== 'string' || !isIndex(m.term)) return false;
  switch (m.type) {
    case 'RequestVote':
      return typeof m.preVote === 'boolean' && typeof m.transfer === 'boolean' && isIndex(m.lastLogIndex) && isIndex(m.lastLogTerm);
    case 'RequestVoteResponse':
      return typeof m.preVote === 'boolean' && typeof m.voteGranted === 'boolean';
    case 'AppendEntries':
      return (
        isIndex(m.prevLogIndex) && isIndex(m.prevLogTerm) && isIndex(m.leaderCommit) && isCtx(m.readCtx) &&
        Array.isArray(m.entries) && m.entries.every((e, i) => isEntry(e) && e.index === (m.prevLogIndex as number) + 1 + i)
      );
    case 'AppendEntriesResponse':
      return (
        typeof m.success === 'boolean' && isIndex(m.matchIndex) && isIndex(m.rejectedIndex) &&
        isIndex(m.conflictTerm) && isIndex(m.conflictIndex) && isCtx(m.readCtx)
      );
    case 'InstallSnapshot': {
      const s = m.snapshot as Record<string, unknown> | null;
      const c = s?.configuration as Record<string, unknown> | undefined;
      return (
        typeof s === 'object' && s !== null && isIndex(s.lastIncludedIndex) && isIndex(s.lastIncludedTerm) &&
        s.data instanceof Uint8Array && Array.isArray(c?.voters) && Array.isArray(c?.learners)
      );
    }
    case 'InstallSnapshotResponse':
      return isIndex(m.matchIndex);
    case 'TimeoutNow':
      return true;
    default:
      return false;
  }
}

function isIndex(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isCtx(x: unknown): boolean {
  return x === null || typeof x === 'string';
}

function isEntry(x: unknown): x is Entry {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  return isIndex(e.index) && isIndex(e.term) && (e.type === 'normal' || e.type === 'noop') && (e.data === null || e.data instanceof Uint8Array);
}
