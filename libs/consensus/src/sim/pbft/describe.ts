import type { PbftMessage } from '../../pbft/types';

const short = (d: string): string => d.slice(0, 6);

/** One line per message for traces. */
export function describeMessage(m: PbftMessage): string {
  const head = `${m.type} from ${m.from}`;
  switch (m.type) {
    case 'Forward':
      return `${head} v${m.view} [${m.requests.map((r) => r.id).join(',')}]`;
    case 'PrePrepare':
      return `${head} v${m.view} n${m.seq} ${short(m.digest)} [${m.requests.map((r) => r.id).join(',') || 'null'}]`;
    case 'Prepare':
    case 'Commit':
      return `${head} v${m.view} n${m.seq} ${short(m.digest)}`;
    case 'Checkpoint':
      return `${head} n${m.seq} ${short(m.digest)}`;
    case 'ViewChange':
      return `${head} to v${m.view} stable ${m.stableSeq} P=[${m.prepared.map((p) => `${p.prePrepare.seq}@v${p.prePrepare.view}`).join(',')}]`;
    case 'NewView':
      return `${head} v${m.view} V=[${m.viewChanges.map((v) => v.from).join(',')}] O=[${m.prePrepares.map((p) => `${p.seq}:${short(p.digest)}`).join(',')}]`;
    case 'Status':
      return `${head} v${m.view}${m.active ? '' : ' (changing)'} h=${m.stableSeq} le=${m.lastExecuted} slots=${m.slots.join('')}`;
    case 'FetchState':
      return `${head} seq ${m.seq}`;
    case 'State':
      return `${head} seq ${m.seq} ${short(m.digest)} (${m.snapshot.length} bytes)`;
    case 'FetchCommitted':
      return `${head} after ${m.after}`;
    case 'Committed':
      return `${head} [${m.certificates.map((c) => c.seq).join(',')}]`;
  }
}
