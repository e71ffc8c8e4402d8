/** What readiness needs from the cluster view (the ClusterView; a stub in unit tests). */
export interface ReadinessSource {
  leader(): string | null;
  reachableNodes(): string[];
  divergedNodes(): string[];
  quorumSize(): number;
}

export interface Readiness {
  status: 'ready' | 'unready';
  /** The leader/primary the gateway would forward to now. */
  leader: string | null;
  checks: {
    /** A leader/primary is known and reachable. */
    leader: boolean;
    /** At least `quorum` replicas are reachable and agree on their state. */
    quorum: boolean;
    /** The gateway hears the bus (replies and beacons reach it). */
    bus: boolean;
  };
  /** Replicas alive by beacon, not isolated and reachable on the bus. */
  reachable: string[];
  /** Replicas needed: a Raft majority, or PBFT's 2f+1. */
  quorumSize: number;
  /** Reachable replicas whose state digest disagrees with their peers' at the same applied index. */
  diverged: string[];
}

/**
 * Ready = a request sent now can be ordered: someone leads, enough replicas to order it can be
 * reached and agree, and the answers can come back. Each check is reported, so a 503 says why.
 */
export function assessReadiness(view: ReadinessSource, busListening: boolean): Readiness {
  const reachable = view.reachableNodes();
  const diverged = view.divergedNodes();
  const leader = view.leader();
  const quorumSize = view.quorumSize();
  const checks = {
    leader: leader !== null && reachable.includes(leader) && !diverged.includes(leader),
    quorum: reachable.filter((id) => !diverged.includes(id)).length >= quorumSize,
    bus: busListening,
  };
  const ok = checks.leader && checks.quorum && checks.bus;
  return { status: ok ? 'ready' : 'unready', leader, checks, reachable, quorumSize, diverged };
}
