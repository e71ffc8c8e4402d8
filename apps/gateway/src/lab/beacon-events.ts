import type { Beacon, BeaconLab, Protocol } from '@app/wire';
import type { LabEventInput } from './lab-events';

/** An event before the recorder stamps it; the source is the cluster unless said otherwise. */
export type LabEventDraft = Omit<LabEventInput, 'source'>;

/** The key of the link between two replicas, whichever end names it: "a|b" with a < b. */
export function linkKey(x: string, y: string): string {
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}

const LEADING = new Set(['leader', 'primary']);

/**
 * What one replica's new beacon says happened since its previous one: elections and votes (Raft),
 * view changes and new views (PBFT), a log compacted or a checkpoint made stable, a state taken
 * from a peer, isolation and Byzantine switches, drops. Pure: the same pair gives the same events
 * (liveness by silence and link cuts are the tick's and LabState's, which see all replicas).
 */
export function beaconEvents(protocol: Protocol, b: Beacon, before: Beacon | null, labBefore: BeaconLab | null): LabEventDraft[] {
  const out: LabEventDraft[] = [];
  const node = b.id;
  const term = b.term;
  const lab = b.lab;
  if (b.alive) {
    const wasLeading = before !== null && before.alive && LEADING.has(before.role) && before.term === term;
    if (protocol === 'raft') {
      if (b.role === 'candidate' && (before?.role !== 'candidate' || before.term !== term)) {
        out.push({ kind: 'election-started', node, term, text: `${node} asks for votes in term ${term}` });
      }
      const votedFor = lab?.raft?.votedFor ?? null;
      const votedBefore = before !== null && before.term === term ? (labBefore?.raft?.votedFor ?? null) : null;
      if (votedFor !== null && votedFor !== node && votedFor !== votedBefore) {
        out.push({ kind: 'vote', node, term, text: `${node} votes for ${votedFor} in term ${term}`, data: { for: votedFor } });
      }
      if (b.role === 'leader' && !wasLeading) {
        const votes = lab?.raft?.votes ?? [];
        out.push({
          kind: 'elected',
          node,
          term,
          text: `${node} elected leader of term ${term}${votes.length > 0 ? ` (votes: ${votes.join(', ')})` : ''}`,
          data: { votes },
        });
      }
    } else {
      const vc = lab?.pbft?.viewChange;
      if (b.role === 'view-changing' && (before?.role !== 'view-changing' || before.term !== term)) {
        out.push({
          kind: 'view-change',
          node,
          term,
          text: `${node} starts a view change to view ${term}${vc ? ` (VIEW-CHANGE from ${vc.from.join(', ') || 'none yet'})` : ''}`,
          data: { to: term, from: vc?.from ?? [] },
        });
      }
      if ((b.role === 'primary' || b.role === 'backup') && before !== null && (before.role === 'view-changing' || before.term < term)) {
        out.push({ kind: 'new-view', node, term, text: `${node} enters view ${term} (primary ${b.leader ?? '?'})`, data: { primary: b.leader } });
      }
      if (b.role === 'primary' && !wasLeading) out.push({ kind: 'elected', node, term, text: `${node} is the primary of view ${term}` });
    }
    const snap = lab?.log.snapshot ?? 0;
    if (lab !== undefined && labBefore !== null) {
      // The replica counts the states it took from a peer (InstallSnapshot, PBFT state transfer); its own compaction is not one.
      if (lab.stateTransfers > labBefore.stateTransfers) {
        out.push({
          kind: 'state-transfer',
          node,
          term,
          text: `${node} took the state at ${snap} from a peer (it had applied ${labBefore.log.applied})`,
          data: { index: snap },
        });
      } else if (snap > labBefore.log.snapshot) {
        if (protocol === 'raft') out.push({ kind: 'snapshot', node, term, text: `${node} compacted its log at ${snap}`, data: { index: snap } });
        else out.push({ kind: 'checkpoint', node, term, text: `${node}: checkpoint ${snap} stable`, data: { seq: snap } });
      }
    }
  }
  if (before !== null && b.isolated !== before.isolated) {
    out.push({ kind: b.isolated ? 'isolated' : 'healed', node, text: `${node} ${b.isolated ? 'isolated from its peers' : 'back in touch with its peers'}` });
  }
  if (before !== null && b.byzantine !== before.byzantine) {
    out.push({
      kind: 'byzantine',
      node,
      text: b.byzantine === 'none' ? `${node} honest again` : `${node} turned Byzantine: ${b.byzantine}`,
      data: { behavior: b.byzantine },
    });
  }
  if (lab !== undefined && labBefore !== null) {
    const grew: Record<string, number> = {};
    for (const [reason, n] of Object.entries(lab.dropped)) if (n > (labBefore.dropped[reason] ?? 0)) grew[reason] = n - (labBefore.dropped[reason] ?? 0);
    const reasons = Object.entries(grew);
    if (reasons.length > 0) {
      out.push({
        kind: 'drops',
        node,
        text: `${node} dropped ${reasons.map(([r, n]) => `${n} ${r}`).join(', ')}`,
        data: { dropped: grew },
      });
    }
  }
  return out;
}
