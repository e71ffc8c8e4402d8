import { resolvePeers, resolveTarget, type ClusterPicture } from './targets';

const picture: ClusterPicture = { leader: 'n2', members: ['n3', 'n1', 'n2', 'n10', 'n4'], usable: ['n2', 'n3', 'n4', 'n10'] };

describe('target resolution, when the step runs', () => {
  it('leader/primary: whoever leads; nobody: wait for one', () => {
    expect(resolveTarget('leader', picture, {})).toEqual({ nodes: ['n2'] });
    expect(resolveTarget('primary', picture, {})).toEqual({ nodes: ['n2'] });
    expect(resolveTarget('leader', { ...picture, leader: null }, {})).toMatchObject({ waitForLeader: true });
  });

  it('follower/backup: the usable non-leader with the lowest id (numeric order), never a dead or isolated one', () => {
    expect(resolveTarget('follower', picture, {})).toEqual({ nodes: ['n3'] }); // n1 is not usable
    expect(resolveTarget('backup', { ...picture, usable: ['n2', 'n10', 'n4'] }, {})).toEqual({ nodes: ['n4'] });
    expect(resolveTarget('follower', { ...picture, usable: ['n2'] }, {})).toEqual({ error: expect.stringContaining('no live follower') });
    expect(resolveTarget('follower', { ...picture, leader: null }, {})).toMatchObject({ waitForLeader: true });
  });

  it('each: the k-th member by id; all: every member; $name: what was remembered; else the id itself', () => {
    expect([0, 1, 2, 3, 4, 5].map((k) => resolveTarget('each', picture, {}, k))).toEqual(['n1', 'n2', 'n3', 'n4', 'n10', 'n1'].map((id) => ({ nodes: [id] })));
    expect(resolveTarget('all', picture, {})).toEqual({ nodes: ['n1', 'n2', 'n3', 'n4', 'n10'] });
    expect(resolveTarget('$victim', picture, { victim: ['n4'] })).toEqual({ nodes: ['n4'] });
    expect(resolveTarget('$victim', picture, {})).toEqual({ error: expect.stringContaining('$victim') });
    expect(resolveTarget('n7', picture, {})).toEqual({ nodes: ['n7'] });
    expect(resolveTarget(undefined, picture, {})).toMatchObject({ error: expect.any(String) });
  });

  it('half: floor(n/2) of the other members, lowest ids first; a remembered list without the node itself', () => {
    expect(resolvePeers('half', 'n2', picture, {})).toEqual({ nodes: ['n1', 'n3'] });
    expect(resolvePeers('half', 'n1', { leader: 'n1', members: ['n1', 'n2', 'n3'], usable: [] }, {})).toEqual({ nodes: ['n2'] });
    expect(resolvePeers('$cut', 'n2', picture, { cut: ['n1', 'n2', 'n3'] })).toEqual({ nodes: ['n1', 'n3'] });
  });
});
