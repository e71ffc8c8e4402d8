import type { Beacon } from '@app/wire';
import { parseBeacon } from './beacon';
import { ClusterView, quorumSize } from './cluster-view';
import { presentCluster } from './present-cluster';

const beacon = (id: string, over: Partial<Beacon> = {}): Beacon => ({
  t: 'beacon',
  id,
  protocol: 'raft',
  role: 'follower',
  term: 1,
  leader: null,
  commitIndex: 5,
  appliedIndex: 4,
  alive: true,
  isolated: false,
  byzantine: 'none',
  pid: 100,
  ...over,
});

function viewAt(nodes = ['n1', 'n2', 'n3']): { view: ClusterView; clock: { now: number } } {
  const clock = { now: 10_000 };
  return { view: new ClusterView({ nodes, protocol: 'raft', staleAfterMs: 3000, now: () => clock.now }), clock };
}

describe('ClusterView', () => {
  it('the leader is the alive node claiming leadership with the highest term', () => {
    const { view } = viewAt();
    expect(view.leader()).toBeNull();
    view.observe(beacon('n1', { role: 'leader', term: 3 }));
    view.observe(beacon('n2', { role: 'leader', term: 5 })); // a newer term wins over a deposed leader still talking
    view.observe(beacon('n3', { role: 'follower', term: 5 }));
    expect(view.leader()).toBe('n2');
    expect(view.snapshot().term).toBe(5);
  });

  it('a node not heard for more than 3 s is not alive, and no longer leads', () => {
    const { view, clock } = viewAt();
    view.observe(beacon('n1', { role: 'leader', term: 2 }));
    clock.now += 3000;
    expect(view.node('n1').alive).toBe(true);
    expect(view.leader()).toBe('n1');
    clock.now += 1;
    expect(view.node('n1')).toMatchObject({ alive: false, lastSeenMs: 3001, role: 'leader' });
    expect(view.leader()).toBeNull();
    expect(view.aliveNodes()).toEqual([]);
  });

  it('a node whose beacon says alive: false (killed) is neither alive nor leader', () => {
    const { view } = viewAt();
    view.observe(beacon('n1', { role: 'leader', term: 2, alive: false }));
    expect(view.leader()).toBeNull();
    expect(view.node('n1').alive).toBe(false);
  });

  it('ignores beacons from nodes outside the configured cluster', () => {
    const { view } = viewAt(['n1']);
    view.observe(beacon('intruder', { role: 'leader', term: 99 }));
    expect(view.leader()).toBeNull();
    expect(view.snapshot().nodes.map((n) => n.id)).toEqual(['n1']);
  });

  it('tells listeners when a new leader appears, not on every beacon', () => {
    const { view } = viewAt();
    const heard: string[] = [];
    view.onLeader((l) => heard.push(l));
    view.observe(beacon('n1', { role: 'leader', term: 1 }));
    view.observe(beacon('n1', { role: 'leader', term: 1 }));
    view.observe(beacon('n2', { role: 'leader', term: 2 }));
    expect(heard).toEqual(['n1', 'n2']);
  });

  it('presents every configured node, unknown ones as role unknown, and term or view by protocol', () => {
    const { view } = viewAt();
    view.observe(beacon('n2', { role: 'leader', term: 4, leader: 'n2', stableCheckpoint: 10 }));
    const out = presentCluster(view.snapshot());
    expect(out).toEqual({
      protocol: 'raft',
      leader: 'n2',
      term: 4,
      nodes: [
        {
          id: 'n1',
          role: 'unknown',
          alive: false,
          term: 0,
          leader: null,
          commitIndex: 0,
          appliedIndex: 0,
          isolated: false,
          byzantine: 'none',
          lastSeenMs: null,
          pid: null,
        },
        {
          id: 'n2',
          role: 'leader',
          alive: true,
          term: 4,
          leader: 'n2',
          commitIndex: 5,
          appliedIndex: 4,
          isolated: false,
          byzantine: 'none',
          lastSeenMs: 0,
          pid: 100,
          stableCheckpoint: 10,
        },
        expect.objectContaining({ id: 'n3', role: 'unknown' }),
      ],
    });
    const pbft = new ClusterView({ nodes: ['n1'], protocol: 'pbft', staleAfterMs: 3000 });
    pbft.observe(beacon('n1', { protocol: 'pbft', role: 'primary', term: 7 }));
    const p = presentCluster(pbft.snapshot());
    expect(p).toMatchObject({ protocol: 'pbft', leader: 'n1', view: 7 });
    expect(p).not.toHaveProperty('term');
    expect((p.nodes as Array<Record<string, unknown>>)[0]).toMatchObject({ view: 7 });
  });
});

describe('ClusterView: liveness and quorum', () => {
  const BEACON_MS = 200;
  function live(nodes = ['n1', 'n2', 'n3'], protocol: 'raft' | 'pbft' = 'raft') {
    const clock = { now: 50_000 };
    const down = new Set<string>();
    const view = new ClusterView({ nodes, protocol, staleAfterMs: 900, now: () => clock.now, reachable: (id) => !down.has(id) });
    const beat = (ids = nodes, over: Partial<Beacon> = {}) => ids.forEach((id) => view.observe(beacon(id, { protocol, ...over })));
    return { view, clock, down, beat };
  }

  it('quorum is a Raft majority or PBFT 2f+1', () => {
    expect([1, 2, 3, 4, 5].map((n) => quorumSize('raft', n))).toEqual([1, 2, 2, 3, 3]);
    expect([4, 5, 7, 10].map((n) => quorumSize('pbft', n))).toEqual([3, 3, 5, 7]);
    expect(live(['n1', 'n2', 'n3', 'n4'], 'pbft').view.quorumSize()).toBe(3);
  });

  it('a replica whose beacons stop (every 200 ms before) is dead within 1 s', () => {
    const { view, clock, beat } = live();
    for (let t = 0; t < 5; t++) {
      beat();
      clock.now += BEACON_MS;
    }
    beat(); // n3 is SIGKILLed right after this beacon
    for (let t = 0; t < 4; t++) {
      clock.now += BEACON_MS;
      beat(['n1', 'n2']);
    }
    expect(view.node('n3').alive).toBe(true); // 800 ms: one beacon period of slack left
    clock.now += BEACON_MS;
    beat(['n1', 'n2']);
    expect(view.node('n3')).toMatchObject({ alive: false, lastSeenMs: 1000 });
    expect(view.aliveNodes()).toEqual(['n1', 'n2']);
  });

  it('reachable = alive by beacon, not isolated, and reachable on the bus', () => {
    const { view, down, beat } = live(['n1', 'n2', 'n3', 'n4', 'n5']);
    beat(['n1', 'n2']);
    view.observe(beacon('n3', { isolated: true }));
    view.observe(beacon('n4', { alive: false }));
    beat(['n5']);
    down.add('n5'); // its inbox's Redis is gone
    expect(view.reachableNodes()).toEqual(['n1', 'n2']);
    expect(view.aliveNodes()).toEqual(['n1', 'n2', 'n3', 'n5']);
  });

  it('knows no quorum is reachable only once it could have heard every replica', () => {
    const { view, clock, down, beat } = live();
    expect(view.quorumUnreachable()).toBe(false); // just started: nobody heard yet is unknown, not dead
    down.add('n2');
    down.add('n3');
    expect(view.quorumUnreachable()).toBe(true); // an unreachable inbox is known at once
    down.clear();
    clock.now += 901;
    expect(view.quorumUnreachable()).toBe(true); // a beacon period passed in silence
    beat(['n1']);
    expect(view.quorumUnreachable()).toBe(true);
    beat(['n2']); // leader unknown, but a majority is alive: electing, not lost
    expect(view.leader()).toBeNull();
    expect(view.quorumUnreachable()).toBe(false);
    clock.now += 901;
    expect(view.quorumUnreachable()).toBe(true);
  });

  it('PBFT needs 2f+1 reachable replicas', () => {
    const { view, clock, beat } = live(['n1', 'n2', 'n3', 'n4'], 'pbft');
    clock.now += 1000;
    beat(['n1', 'n2']);
    expect(view.quorumUnreachable()).toBe(true);
    beat(['n3']);
    expect(view.quorumUnreachable()).toBe(false);
  });

  it('names replicas whose digest disagrees with a strict majority at the same applied index', () => {
    const { view, beat } = live(['n1', 'n2', 'n3', 'n4', 'n5']);
    beat(['n1', 'n2'], { appliedIndex: 7, digest: 'good' });
    beat(['n3'], { appliedIndex: 7, digest: 'bad' });
    beat(['n4'], { appliedIndex: 9, digest: 'other' }); // alone at its index: nothing to compare
    beat(['n5'], { appliedIndex: 7 }); // no digest (large state): no evidence either way
    expect(view.divergedNodes()).toEqual(['n3']);
    beat(['n2'], { appliedIndex: 7, digest: 'bad' }); // 1 against 2... now 2 against 1
    expect(view.divergedNodes()).toEqual(['n1']);
    view.observe(beacon('n1', { appliedIndex: 8, digest: 'good' }));
    beat(['n4'], { appliedIndex: 8, digest: 'other' }); // a tie: neither is trusted
    expect(view.divergedNodes()).toEqual(['n1', 'n4']);
  });
});

describe('parseBeacon', () => {
  it('takes a well-formed beacon and fills missing optional fields', () => {
    expect(parseBeacon({ t: 'beacon', id: 'n1', role: 'leader', term: 2 })).toEqual(
      expect.objectContaining({ id: 'n1', role: 'leader', term: 2, alive: true, isolated: false, byzantine: 'none', commitIndex: 0 }),
    );
  });

  it.each([
    null,
    'beacon',
    [],
    { t: 'other', id: 'n1', role: 'x', term: 1 },
    { t: 'beacon', role: 'x', term: 1 },
    { t: 'beacon', id: 'n1', term: 1 },
    { t: 'beacon', id: 'n1', role: 'x', term: 'one' },
    { t: 'beacon', id: 'n1', role: 'x', term: NaN },
  ])('drops %p', (junk) => {
    expect(parseBeacon(junk)).toBeNull();
  });
});
