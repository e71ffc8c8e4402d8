import { linkKey } from '../lab/beacon-events';
import { damageOf, healPlan, replicaStates, type DamageKind } from './heal';

const healthy = (id: string) => ({ id, alive: true, isolated: false, byzantine: 'none' });

describe('heal-all', () => {
  it('undoes what the beacons show: storage, then revive, then isolation, links and behaviours', () => {
    const plan = healPlan(
      [
        { ...healthy('n1'), alive: false },
        { ...healthy('n2'), isolated: true, cut: ['n3'] },
        { ...healthy('n3'), byzantine: 'equivocate', cut: ['n2'] },
        healthy('n4'),
      ],
      new Map<DamageKind, Set<string>>([['storage', new Set(['n4'])]]),
      'pbft',
    );
    expect(plan).toEqual([
      { action: 'storage-restart', node: 'n4' },
      { action: 'revive', node: 'n1' },
      { action: 'heal', node: 'n2' },
      { action: 'heal-link', node: 'n2', peer: 'n3' },
      { action: 'byzantine', node: 'n3' },
    ]);
  });

  it('undoes what the run did even where the beacons do not show it yet (a hard kill still looks alive)', () => {
    const damage = new Map<DamageKind, Set<string>>([
      ['dead', new Set(['n1'])],
      ['link', new Set([linkKey('n3', 'n1')])],
      ['byzantine', new Set(['n2'])],
    ]);
    expect(healPlan(['n1', 'n2', 'n3'].map(healthy), damage, 'raft')).toEqual([
      { action: 'revive', node: 'n1' },
      { action: 'heal-link', node: 'n1', peer: 'n3' },
    ]);
    expect(healPlan(['n1', 'n2', 'n3'].map(healthy), new Map(), 'raft')).toEqual([]);
  });

  it("reads beacons' cut lists keeping only configured replicas, never the replica itself (a Byzantine beacon may name anything)", () => {
    const cuts: Record<string, string[]> = { n1: ['n2', 'ghost|x', 'n1', 'n9', 'n2'], n2: ['n1'] };
    const replicas = replicaStates([healthy('n1'), healthy('n2'), healthy('n3')], (id) => cuts[id], ['n1', 'n2', 'n3']);
    expect(replicas).toEqual([
      { ...healthy('n1'), cut: ['n2'] },
      { ...healthy('n2'), cut: ['n1'] },
      healthy('n3'), // no lab section in its beacon: no cut list
    ]);
    expect(healPlan(replicas, new Map(), 'pbft')).toEqual([{ action: 'heal-link', node: 'n1', peer: 'n2' }]);
  });

  it('the ledger: faults recorded, their undoing clears them', () => {
    expect(damageOf('hard-kill', 'n1')).toEqual({ kind: 'dead', key: 'n1', adds: true });
    expect(damageOf('revive', 'n1')).toEqual({ kind: 'dead', key: 'n1', adds: false });
    expect(damageOf('byzantine', 'n1', undefined, 'silent')).toMatchObject({ adds: true });
    expect(damageOf('byzantine', 'n1', undefined, 'none')).toMatchObject({ adds: false });
    expect(damageOf('cut-link', 'n2', 'n1')).toEqual({ kind: 'link', key: 'n1|n2', adds: true });
    expect(damageOf('heal-link', 'n1', 'n2')).toEqual({ kind: 'link', key: 'n1|n2', adds: false });
    expect(damageOf('heal-all', 'n1')).toBeNull();
  });
});
