import type { Beacon } from '@app/wire';
import { ClusterView } from '../cluster/cluster-view';
import { assessReadiness } from './readiness';

const beacon = (id: string, over: Partial<Beacon> = {}): Beacon => ({
  t: 'beacon',
  id,
  protocol: 'raft',
  role: 'follower',
  term: 2,
  leader: null,
  commitIndex: 5,
  appliedIndex: 5,
  alive: true,
  isolated: false,
  byzantine: 'none',
  pid: 1,
  ...over,
});

function cluster(nodes = ['n1', 'n2', 'n3'], protocol: 'raft' | 'pbft' = 'raft') {
  const clock = { now: 1_000 };
  const down = new Set<string>();
  const view = new ClusterView({ nodes, protocol, staleAfterMs: 900, now: () => clock.now, reachable: (id) => !down.has(id) });
  return { view, clock, down };
}

describe('gateway readiness', () => {
  it('is ready with a reachable leader, a quorum and the bus', () => {
    const { view } = cluster();
    view.observe(beacon('n1', { role: 'leader' }));
    view.observe(beacon('n2'));
    expect(assessReadiness(view, true)).toEqual({
      status: 'ready',
      leader: 'n1',
      checks: { leader: true, quorum: true, bus: true },
      reachable: ['n1', 'n2'],
      quorumSize: 2,
      diverged: [],
    });
  });

  it('says which check failed: no leader (electing), no quorum, bus down', () => {
    const { view, clock } = cluster();
    view.observe(beacon('n1', { role: 'candidate', term: 3 }));
    view.observe(beacon('n2'));
    expect(assessReadiness(view, true)).toMatchObject({ status: 'unready', leader: null, checks: { leader: false, quorum: true, bus: true } });

    view.observe(beacon('n1', { role: 'leader', term: 3 }));
    expect(assessReadiness(view, false)).toMatchObject({ status: 'unready', checks: { leader: true, quorum: true, bus: false } });

    clock.now += 600;
    view.observe(beacon('n1', { role: 'leader', term: 3 }));
    clock.now += 400; // n2 silent for 1 s
    expect(assessReadiness(view, true)).toMatchObject({
      status: 'unready',
      leader: 'n1',
      checks: { leader: true, quorum: false, bus: true },
      reachable: ['n1'],
    });
  });

  it('a leader whose inbox cannot be reached, or that is isolated, does not count', () => {
    const { view, down } = cluster();
    view.observe(beacon('n1', { role: 'leader' }));
    view.observe(beacon('n2'));
    view.observe(beacon('n3'));
    down.add('n1');
    expect(assessReadiness(view, true)).toMatchObject({ status: 'unready', leader: 'n1', checks: { leader: false, quorum: true } });
    down.clear();
    view.observe(beacon('n1', { role: 'leader', isolated: true }));
    expect(assessReadiness(view, true)).toMatchObject({ status: 'unready', checks: { leader: false, quorum: true }, reachable: ['n2', 'n3'] });
  });

  it('diverged replicas do not make a quorum', () => {
    const { view } = cluster();
    view.observe(beacon('n1', { role: 'leader', appliedIndex: 4, digest: 'a' }));
    view.observe(beacon('n2', { appliedIndex: 7, digest: 'x' }));
    view.observe(beacon('n3', { appliedIndex: 7, digest: 'y' }));
    expect(assessReadiness(view, true)).toMatchObject({ status: 'unready', checks: { leader: true, quorum: false }, diverged: ['n2', 'n3'] });
    view.observe(beacon('n3', { appliedIndex: 7, digest: 'x' }));
    expect(assessReadiness(view, true)).toMatchObject({ status: 'ready', diverged: [] });
  });

  it('PBFT needs a primary and 2f+1 replicas', () => {
    const { view } = cluster(['n1', 'n2', 'n3', 'n4'], 'pbft');
    view.observe(beacon('n1', { protocol: 'pbft', role: 'primary' }));
    view.observe(beacon('n2', { protocol: 'pbft', role: 'backup' }));
    expect(assessReadiness(view, true)).toMatchObject({ status: 'unready', checks: { leader: true, quorum: false }, quorumSize: 3 });
    view.observe(beacon('n3', { protocol: 'pbft', role: 'backup' }));
    expect(assessReadiness(view, true)).toMatchObject({ status: 'ready' });
  });
});
