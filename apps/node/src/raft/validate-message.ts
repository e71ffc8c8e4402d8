import { MAX_TERM, type Entry, type Message } from '@app/consensus/raft';

/** Why a peer's message is dropped (each reason has its own counter). */
export type RaftMessageProblem = 'malformed' | 'term-beyond-ceiling';

/**
 * Bus input is untrusted: accept only well-formed Raft messages (the core assumes the shape) whose
 * terms are all within MAX_TERM. A term above it cannot come from a correct peer (2^53 elections),
 * and adopting it would leave the cluster no term to campaign in: a forged RequestVote at 2^53-1
 * once made every later election use 2^53, which this check refused, so no leader ever again.
 */
export function raftMessageProblem(x: unknown): RaftMessageProblem | null {
  if (!isWellFormed(x)) return 'malformed';
  return highestTerm(x) > MAX_TERM ? 'term-beyond-ceiling' : null;
}

export function isRaftMessage(x: unknown): x is Message {
  return raftMessageProblem(x) === null;
}

/** Every term a message carries: its own, and the log terms it names (none is ever above its own from a correct peer). */
function highestTerm(m: Message): number {
  switch (m.type) {
    case 'RequestVote':
      return Math.max(m.term, m.lastLogTerm);
    case 'AppendEntries': {
      let t = Math.max(m.term, m.prevLogTerm);
      for (const e of m.entries) if (e.term > t) t = e.term;
      return t;
    }
    case 'AppendEntriesResponse':
      return Math.max(m.term, m.conflictTerm);
    case 'InstallSnapshot':
      return Math.max(m.term, m.snapshot.lastIncludedTerm);
    default:
      return m.term;
  }
}

function isWellFormed(x: unknown): x is Message {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  if (typeof m.from !== 'string' || typeof m.to !== 'string' || !isTerm(m.term)) return false;
  switch (m.type) {
    case 'RequestVote':
      return typeof m.preVote === 'boolean' && typeof m.transfer === 'boolean' && isIndex(m.lastLogIndex) && isTerm(m.lastLogTerm);
    case 'RequestVoteResponse':
      return typeof m.preVote === 'boolean' && typeof m.voteGranted === 'boolean';
    case 'AppendEntries':
      return (
        isIndex(m.prevLogIndex) &&
        isTerm(m.prevLogTerm) &&
        isIndex(m.leaderCommit) &&
        isCtx(m.readCtx) &&
        Array.isArray(m.entries) &&
        m.entries.every((e, i) => isEntry(e) && e.index === (m.prevLogIndex as number) + 1 + i)
      );
    case 'AppendEntriesResponse':
      return (
        typeof m.success === 'boolean' &&
        isIndex(m.matchIndex) &&
        isIndex(m.rejectedIndex) &&
        isTerm(m.conflictTerm) &&
        isIndex(m.conflictIndex) &&
        isCtx(m.readCtx)
      );
    case 'InstallSnapshot': {
      const s = m.snapshot as Record<string, unknown> | null;
      const c = s?.configuration as Record<string, unknown> | undefined;
      return (
        typeof s === 'object' &&
        s !== null &&
        isIndex(s.lastIncludedIndex) &&
        isTerm(s.lastIncludedTerm) &&
        s.data instanceof Uint8Array &&
        Array.isArray(c?.voters) &&
        Array.isArray(c?.learners) &&
        (c?.retired === undefined || (Array.isArray(c.retired) && c.retired.every((id) => typeof id === 'string')))
      );
    }
    case 'InstallSnapshotResponse':
      return isIndex(m.matchIndex);
    case 'TimeoutNow':
      return true;
    case 'ReadIndexRequest':
      return typeof m.ctx === 'string' && isCtx(m.ctx);
    case 'ReadIndexResponse':
      return typeof m.ctx === 'string' && isCtx(m.ctx) && (m.index === null || isIndex(m.index));
    default:
      return false;
  }
}

function isIndex(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Any whole number: one beyond MAX_TERM (even beyond 2^53) is well-formed, and refused for its size. */
function isTerm(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

function isCtx(x: unknown): boolean {
  return x === null || typeof x === 'string';
}

function isEntry(x: unknown): x is Entry {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  return (
    isIndex(e.index) && isTerm(e.term) && (e.type === 'normal' || e.type === 'noop' || e.type === 'config') && (e.data === null || e.data instanceof Uint8Array)
  );
}
