import type { Beacon } from '@app/wire';
import { parseBeacon } from './beacon';
import { ClusterView } from './cluster-view';
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
        { id: 'n1', role: 'unknown', alive: false, term: 0, leader: null, commitIndex: 0, appliedIndex: 0, isolated: false, byzantine: 'none', lastSeenMs: null, pid: null },
        { id: 'n2', role: 'leader', alive: true, term: 4, leader: 'n2', commitIndex: 5, appliedIndex: 4, isolated: false, byzantine: 'none', lastSeenMs: 0, pid: 100, stableCheckpoint: 10 },
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

describe('parseBeacon', () => {
  it('takes a well-formed beacon and fills missing optional fields', () => {
    expect(parseBeacon({ t: 'beacon', id: 'n1', role: 'leader', term: 2 })).toEqual(
      expect.objectContaining({ id: 'n1', role: 'leader', term: 2, alive: true, isolated: false, byzantine: 'none', commitIndex: 0 }),
    );
  });

  it.each([null, 'beacon', [], { t: 'other', id: 'n1', role: 'x', term: 1 }, { t: 'beacon', role: 'x', term: 1 }, { t: 'beacon', id: 'n1', term: 1 }, { t: 'beacon', id: 'n1', role: 'x', term: 'one' }, { t: 'beacon', id: 'n1', role: 'x', term: NaN }])(
    'drops %p',
    (junk) => {
      expect(parseBeacon(junk)).toBeNull();
    },
  );
});
