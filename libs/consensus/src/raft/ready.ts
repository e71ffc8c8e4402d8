import { mutant } from '../mutants';
import type { Message, Ready } from './types';

/**
 * Which of a Ready's messages a runtime may send before the Ready is durable, and which must wait.
 *
 * A leader's replication (AppendEntries, InstallSnapshot) may go out while its own write is in
 * flight (thesis §10.2.1; etcd: "the leader can send MsgApp in parallel with persisting"), so the
 * leader's and the followers' fsyncs overlap. The leader counts its own entries towards a commit
 * at once, but a commit index reaches anyone — followers, clients — only in a later Ready, which
 * the runtime takes after this one is durable. Everything else waits for the write: a vote, an
 * acknowledgement, a candidate's RequestVote (its term and self-vote must survive a crash).
 */
export function splitForPersist(rd: Ready): { early: Message[]; late: Message[] } {
  if (mutant('raft.ready.send-all-before-persist')) return { early: rd.messages, late: [] };
  if (rd.softState.role !== 'leader') return { early: [], late: rd.messages };
  const early: Message[] = [];
  const late: Message[] = [];
  for (const m of rd.messages) (m.type === 'AppendEntries' || m.type === 'InstallSnapshot' ? early : late).push(m);
  return { early, late };
}
