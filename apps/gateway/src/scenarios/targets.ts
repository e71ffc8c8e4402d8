/** What target resolution needs to know of the cluster at the moment a step runs. */
export interface ClusterPicture {
  leader: string | null;
  /** The members (voters, then learners), in any order. */
  members: readonly string[];
  /** Alive by beacon and not isolated: the replicas a "follower" can be chosen from. */
  usable: readonly string[];
}

export type Resolved = { nodes: string[] } | { error: string; waitForLeader?: boolean };

const byId = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/**
 * The node(s) a target names now (scenario.ts describes the forms). `vars` holds what earlier
 * steps remembered. `waitForLeader`: nobody leads at this moment, which passes (an election or
 * view change is under way): the caller asks again for a while before failing the step.
 */
export function resolveTarget(target: string | undefined, picture: ClusterPicture, vars: Record<string, string[]>, repetition = 0): Resolved {
  if (target === undefined) return { error: 'the step names no target' };
  if (target.startsWith('$')) {
    const nodes = vars[target.slice(1)];
    return nodes !== undefined && nodes.length > 0 ? { nodes } : { error: `nothing was remembered as ${target} (did the step naming it fail?)` };
  }
  switch (target) {
    case 'leader':
    case 'primary':
      return picture.leader !== null ? { nodes: [picture.leader] } : { error: `no ${target} is known`, waitForLeader: true };
    case 'follower':
    case 'backup': {
      // Relative to the leader: while nobody leads, wait, as for `leader`, rather than pick the next one.
      if (picture.leader === null) return { error: `no leader is known, so no ${target} either`, waitForLeader: true };
      const candidates = picture.usable.filter((id) => id !== picture.leader).sort(byId);
      return candidates.length > 0 ? { nodes: [candidates[0]] } : { error: `no live ${target}: every replica but the leader is down or isolated` };
    }
    case 'each': {
      const members = [...picture.members].sort(byId);
      return members.length > 0 ? { nodes: [members[repetition % members.length]] } : { error: 'the cluster has no members' };
    }
    case 'all':
      return { nodes: [...picture.members].sort(byId) };
    default:
      return { nodes: [target] };
  }
}

/** The other ends of cut-link / heal-link from `node`: `half` is floor(n/2) of the other members, lowest ids first. */
export function resolvePeers(peer: string | undefined, node: string, picture: ClusterPicture, vars: Record<string, string[]>): Resolved {
  if (peer === 'half') {
    const others = picture.members.filter((id) => id !== node).sort(byId);
    return { nodes: others.slice(0, Math.floor(picture.members.length / 2)) };
  }
  const r = resolveTarget(peer, picture, vars);
  return 'nodes' in r ? { nodes: r.nodes.filter((id) => id !== node) } : r;
}
