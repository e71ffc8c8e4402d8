import type { ClusterSnapshot, NodeView } from './cluster-view';

/** /v1/cluster: one shape for both protocols, except that PBFT says view where Raft says term. */
export function presentCluster(s: ClusterSnapshot): Record<string, unknown> {
  const termKey = s.protocol === 'pbft' ? 'view' : 'term';
  return { protocol: s.protocol, leader: s.leader, [termKey]: s.term, nodes: s.nodes.map((n) => presentNode(n, termKey)) };
}

function presentNode(n: NodeView, termKey: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: n.id,
    role: n.role,
    alive: n.alive,
    [termKey]: n.term,
    leader: n.leaderHint,
    commitIndex: n.commitIndex,
    appliedIndex: n.appliedIndex,
    isolated: n.isolated,
    byzantine: n.byzantine,
    lastSeenMs: n.lastSeenMs,
    pid: n.pid,
  };
  if (n.stableCheckpoint !== undefined) out.stableCheckpoint = n.stableCheckpoint;
  if (n.digest !== undefined) out.digest = n.digest;
  return out;
}
