import type { Entry, Message, Ready } from '../../raft/types';
import { cloneEntry, cloneSnapshot } from './disk';

/** A copy for the receiver: nodes must never share mutable objects, as across a real wire. */
export function cloneMessage(m: Message): Message {
  switch (m.type) {
    case 'AppendEntries':
      return { ...m, entries: m.entries.map(cloneEntry) };
    case 'InstallSnapshot':
      return { ...m, snapshot: cloneSnapshot(m.snapshot) };
    default:
      return { ...m };
  }
}

function span(es: Entry[]): string {
  if (es.length === 0) return '[]';
  const a = es[0];
  const b = es[es.length - 1];
  return es.length === 1 ? `[${a.index}/${a.term}]` : `[${a.index}/${a.term}..${b.index}/${b.term}]`;
}

/** One line per message for traces. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'RequestVote':
      return `${head}${m.preVote ? ' pre' : ''}${m.transfer ? ' transfer' : ''} last=${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'RequestVoteResponse':
      return `${head}${m.preVote ? ' pre' : ''} ${m.voteGranted ? 'granted' : 'rejected'}`;
    case 'AppendEntries':
      return `${head} prev=${m.prevLogIndex}/${m.prevLogTerm} ${span(m.entries)} commit=${m.leaderCommit}${m.readCtx ? ` read=${m.readCtx}` : ''}`;
    case 'AppendEntriesResponse':
      return m.success
        ? `${head} ok match=${m.matchIndex}${m.readCtx ? ` read=${m.readCtx}` : ''}`
        : `${head} refused hint=${m.conflictIndex}/${m.conflictTerm}`;
    case 'InstallSnapshot':
      return `${head} snap=${m.snapshot.lastIncludedIndex}/${m.snapshot.lastIncludedTerm}`;
    case 'InstallSnapshotResponse':
      return `${head} match=${m.matchIndex}`;
    case 'TimeoutNow':
      return head;
    case 'ReadIndexRequest':
      return `${head} read=${m.ctx}`;
    case 'ReadIndexResponse':
      return `${head} read=${m.ctx} index=${m.index ?? 'refused'}`;
  }
}

export function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.hardState) parts.push(`hs=t${rd.hardState.currentTerm},v=${rd.hardState.votedFor ?? '-'},c=${rd.hardState.commitIndex}`);
  if (rd.snapshot) parts.push(`snap=${rd.snapshot.lastIncludedIndex}/${rd.snapshot.lastIncludedTerm}`);
  if (rd.entries.length) parts.push(`persist ${span(rd.entries)}`);
  if (rd.messages.length) parts.push(`${rd.messages.length} msgs`);
  if (rd.committedEntries.length) parts.push(`apply ${span(rd.committedEntries)}`);
  if (rd.readStates.length) parts.push(`reads ${rd.readStates.map((r) => `${r.ctx}@${r.index}`).join(',')}`);
  if (rd.readFailures.length) parts.push(`readfail ${rd.readFailures.map((r) => r.ctx).join(',')}`);
  return parts.join(' ');
}
