import { linkKey } from '../lab/beacon-events';
import type { ScenarioAction } from './scenario';

/**
 * What a run has broken and not yet undone, kept beside the run in Redis: the beacons alone cannot
 * say it (a hard-killed replica looks alive until its beacons go stale; a killed Redis is not in
 * any beacon). Keyed `<kind>:<node>`, a link as `link:<a>|<b>` with a < b.
 */
export type DamageKind = 'dead' | 'isolated' | 'byzantine' | 'storage' | 'link';

/** The damage an action does or undoes (runner.ts: performTracked says when it counts). */
export function damageOf(action: ScenarioAction, node: string, peer?: string, behavior?: string): { kind: DamageKind; key: string; adds: boolean } | null {
  switch (action) {
    case 'kill':
    case 'hard-kill':
      return { kind: 'dead', key: node, adds: true };
    case 'revive':
      return { kind: 'dead', key: node, adds: false };
    case 'isolate':
      return { kind: 'isolated', key: node, adds: true };
    case 'heal':
      return { kind: 'isolated', key: node, adds: false };
    case 'byzantine':
      return { kind: 'byzantine', key: node, adds: behavior !== 'none' };
    case 'storage-kill':
      return { kind: 'storage', key: node, adds: true };
    case 'storage-restart':
      return { kind: 'storage', key: node, adds: false };
    case 'cut-link':
      return peer === undefined ? null : { kind: 'link', key: linkKey(node, peer), adds: true };
    case 'heal-link':
      return peer === undefined ? null : { kind: 'link', key: linkKey(node, peer), adds: false };
    default:
      return null;
  }
}

/** A replica as its last beacon shows it. `cut`: peers whose link to it the admin cut, when the beacon says. */
export interface ReplicaState {
  id: string;
  alive: boolean;
  isolated: boolean;
  byzantine: string;
  cut?: readonly string[];
}

/**
 * The replicas as the runner heals from them: a beacon's `cut` list keeps only known replicas
 * (`known`: the configured nodes) and never the replica itself. A Byzantine replica's beacon may
 * name anything, and an invented peer would become a heal-link call that fails (404) and fails
 * every run.
 */
export function replicaStates(
  nodes: ReadonlyArray<{ id: string; alive: boolean; isolated: boolean; byzantine: string }>,
  cutOf: (id: string) => readonly string[] | undefined,
  known: readonly string[],
): ReplicaState[] {
  const configured = new Set(known);
  return nodes.map(({ id, alive, isolated, byzantine }) => {
    const cut = cutOf(id);
    return { id, alive, isolated, byzantine, ...(cut !== undefined && { cut: [...new Set(cut)].filter((p) => p !== id && configured.has(p)) }) };
  });
}

export interface HealAction {
  action: 'storage-restart' | 'revive' | 'heal' | 'heal-link' | 'byzantine';
  node: string;
  peer?: string;
}

/**
 * Everything to undo, whether this run did it (the ledger) or the beacons show it: storage first
 * (a replica cannot start without its Redis), then revive (a dead process answers nothing), then
 * isolation, links and Byzantine behaviours.
 */
export function healPlan(replicas: readonly ReplicaState[], damage: ReadonlyMap<DamageKind, ReadonlySet<string>>, protocol: 'raft' | 'pbft'): HealAction[] {
  const of = (kind: DamageKind): Set<string> => new Set(damage.get(kind) ?? []);
  const storage = of('storage');
  const dead = of('dead');
  const isolated = of('isolated');
  const byzantine = of('byzantine');
  const links = of('link');
  for (const r of replicas) {
    if (!r.alive) dead.add(r.id);
    if (r.isolated) isolated.add(r.id);
    if (r.byzantine !== 'none' && r.byzantine !== '') byzantine.add(r.id);
    for (const p of r.cut ?? []) links.add(linkKey(r.id, p));
  }
  const sorted = (s: Set<string>): string[] => [...s].sort();
  const plan: HealAction[] = [];
  for (const node of sorted(storage)) plan.push({ action: 'storage-restart', node });
  for (const node of sorted(dead)) plan.push({ action: 'revive', node });
  for (const node of sorted(isolated)) plan.push({ action: 'heal', node });
  for (const link of sorted(links)) {
    const [node, peer] = link.split('|');
    plan.push({ action: 'heal-link', node, peer });
  }
  if (protocol === 'pbft') for (const node of sorted(byzantine)) plan.push({ action: 'byzantine', node });
  return plan;
}
