import { parseBeacon } from './beacon';
import { parseBeaconLab, scopeLab } from './beacon-lab';

/** A well-formed lab part (Raft and PBFT parts both, as a parser must take either). */
function goodLab(): any {
  return {
    log: { last: 12, commit: 11, applied: 10, snapshot: 4 },
    stateTransfers: 1,
    links: {
      n2: { sent: { AppendEntries: 40 }, recv: { AppendEntriesResponse: 39 }, dropped: { 'link-cut': 2, rejected: 1 } },
      n3: { sent: {}, recv: {}, dropped: {} },
    },
    dropped: { 'link-cut': 2, 'bad-signature': 0 },
    cut: ['n3'],
    raft: { votedFor: 'n1', votes: ['n1', 'n2'], progress: { n2: { match: 11, next: 12, state: 'replicate' } } },
    pbft: {
      primary: 'n1',
      viewChanging: false,
      low: 0,
      high: 32,
      slots: [
        [9, 2, 3, 1],
        [10, 1, 0, 0],
      ],
      viewChange: { to: 2, from: ['n2', 'n3'] },
    },
  };
}

const beaconWith = (lab: unknown): Record<string, unknown> => ({
  t: 'beacon',
  id: 'n1',
  protocol: 'raft',
  role: 'leader',
  term: 3,
  leader: 'n1',
  commitIndex: 11,
  appliedIndex: 10,
  alive: true,
  isolated: false,
  byzantine: 'none',
  pid: 42,
  lab,
});

const bigMap = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

describe('parseBeaconLab', () => {
  it('takes a well-formed lab part as it is', () => {
    expect(parseBeaconLab(goodLab())).toEqual(goodLab());
  });

  it('takes one without the protocol parts, and a PBFT part without a view change', () => {
    const { raft: _r, pbft: _p, ...plain } = goodLab();
    expect(parseBeaconLab(plain)).toEqual(plain);
    const lab = goodLab();
    delete lab.pbft.viewChange;
    expect(parseBeaconLab(lab)?.pbft).toEqual({ primary: 'n1', viewChanging: false, low: 0, high: 32, slots: lab.pbft.slots });
    const noVote = goodLab();
    noVote.raft.votedFor = null;
    noVote.pbft.primary = null;
    expect(parseBeaconLab(noVote)).toEqual(noVote);
  });

  it('keeps only what it knows (extra fields are not carried along)', () => {
    const lab = goodLab();
    lab.extra = 'x';
    lab.log.extra = 1;
    lab.links.n2.extra = 'y';
    lab.raft.progress.n2.extra = true;
    expect(parseBeaconLab(lab)).toEqual(goodLab());
  });

  it("normalises a slot's committed flag to 0 or 1", () => {
    const lab = goodLab();
    lab.pbft.slots = [[5, 1, 1, 7]];
    expect(parseBeaconLab(lab)?.pbft?.slots).toEqual([[5, 1, 1, 0]]);
  });

  const huge = Number.MAX_SAFE_INTEGER + 2;
  const cases: Array<[string, (lab: any) => void]> = [
    ['no log', (l) => delete l.log],
    ['log not an object', (l) => (l.log = [1, 2, 3, 4])],
    ['log field missing', (l) => delete l.log.snapshot],
    ['negative log index', (l) => (l.log.commit = -1)],
    ['fractional log index', (l) => (l.log.applied = 1.5)],
    ['huge log index', (l) => (l.log.last = huge)],
    ['log index as a string', (l) => (l.log.last = '12')],
    ['NaN log index', (l) => (l.log.last = NaN)],
    ['Infinity log index', (l) => (l.log.last = Infinity)],
    ['negative sent count', (l) => (l.links.n2.sent.AppendEntries = -3)],
    ['fractional recv count', (l) => (l.links.n2.recv.AppendEntriesResponse = 0.5)],
    ['huge dropped count on a link', (l) => (l.links.n2.dropped['link-cut'] = 1e300)],
    ['count as a string (what a counter keyed "constructor" becomes)', (l) => (l.links.n2.recv.constructor = 'function Object() { [native code] }1')],
    ['negative total drops', (l) => (l.dropped['link-cut'] = -1)],
    ['fractional total drops', (l) => (l.dropped.x = 2.25)],
    ['links missing', (l) => delete l.links],
    ['links as an array', (l) => (l.links = [])],
    ['a link without recv', (l) => delete l.links.n2.recv],
    ['a link that is not an object', (l) => (l.links.n2 = 5)],
    ['a link to an empty id', (l) => (l.links[''] = { sent: {}, recv: {}, dropped: {} })],
    ['a link to a 65-character id', (l) => (l.links['n'.repeat(65)] = { sent: {}, recv: {}, dropped: {} })],
    ['too many links', (l) => (l.links = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, { sent: {}, recv: {}, dropped: {} }])))],
    ['too many message types on a link', (l) => (l.links.n2.sent = bigMap(65))],
    ['too many drop reasons', (l) => (l.dropped = bigMap(65))],
    ['a 65-character message type', (l) => (l.links.n2.sent['t'.repeat(65)] = 1)],
    ['dropped missing', (l) => delete l.dropped],
    ['stateTransfers missing', (l) => delete l.stateTransfers],
    ['stateTransfers negative', (l) => (l.stateTransfers = -1)],
    ['a drop reason named after an Object.prototype member', (l) => (l.dropped = { constructor: 3 })],
    ['dropped as an array', (l) => (l.dropped = [1, 2])],
    ['cut missing', (l) => delete l.cut],
    ['cut with a number', (l) => (l.cut = ['n2', 3])],
    ['cut with an empty id', (l) => (l.cut = [''])],
    ['cut too long', (l) => (l.cut = Array.from({ length: 65 }, (_, i) => `p${i}`))],
    ['cut as a string', (l) => (l.cut = 'n2')],
    ['raft not an object', (l) => (l.raft = 'leader')],
    ['raft votedFor a number', (l) => (l.raft.votedFor = 2)],
    ['raft votedFor empty', (l) => (l.raft.votedFor = '')],
    ['raft votedFor missing', (l) => delete l.raft.votedFor],
    ['raft votes with a non-string', (l) => (l.raft.votes = ['n1', { id: 'n2' }])],
    ['raft votes missing', (l) => delete l.raft.votes],
    ['raft progress missing', (l) => delete l.raft.progress],
    [
      'raft progress too large',
      (l) => (l.raft.progress = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, { match: 0, next: 1, state: 'probe' }]))),
    ],
    ['raft progress with a negative match', (l) => (l.raft.progress.n2.match = -1)],
    ['raft progress with a fractional next', (l) => (l.raft.progress.n2.next = 1.5)],
    ['raft progress state too long', (l) => (l.raft.progress.n2.state = 'x'.repeat(17))],
    ['raft progress state not a string', (l) => (l.raft.progress.n2.state = 1)],
    ['pbft not an object', (l) => (l.pbft = null)],
    ['pbft primary a number', (l) => (l.pbft.primary = 0)],
    ['pbft viewChanging not a boolean', (l) => (l.pbft.viewChanging = 'no')],
    ['pbft negative low water mark', (l) => (l.pbft.low = -8)],
    ['pbft fractional high water mark', (l) => (l.pbft.high = 32.5)],
    ['pbft slots not an array', (l) => (l.pbft.slots = {})],
    ['pbft too many slots', (l) => (l.pbft.slots = Array.from({ length: 65 }, (_, i) => [i, 0, 0, 0]))],
    ['pbft slot of three', (l) => (l.pbft.slots = [[1, 2, 3]])],
    ['pbft slot of five', (l) => (l.pbft.slots = [[1, 2, 3, 1, 0]])],
    ['pbft slot with a negative count', (l) => (l.pbft.slots = [[1, -2, 3, 1]])],
    ['pbft slot with a string', (l) => (l.pbft.slots = [['1', 2, 3, 1]])],
    ['pbft slot not an array', (l) => (l.pbft.slots = [{ seq: 1 }])],
    ['pbft view change without to', (l) => delete l.pbft.viewChange.to],
    ['pbft view change to a negative view', (l) => (l.pbft.viewChange.to = -1)],
    ['pbft view change from with a number', (l) => (l.pbft.viewChange.from = ['n2', 3])],
    ['pbft view change from not an array', (l) => (l.pbft.viewChange.from = 'n2')],
    ['pbft view change not an object', (l) => (l.pbft.viewChange = 2)],
  ];

  it.each(cases)('drops the whole lab part for %s, and parseBeacon keeps the rest of the beacon', (_what, spoil) => {
    const lab = goodLab();
    spoil(lab);
    expect(parseBeaconLab(lab)).toBeNull();
    const beacon = parseBeacon(beaconWith(lab));
    expect(beacon).not.toBeNull();
    expect(beacon).not.toHaveProperty('lab');
    expect(beacon).toMatchObject({ id: 'n1', role: 'leader', term: 3, leader: 'n1', commitIndex: 11, appliedIndex: 10, alive: true, pid: 42 });
  });

  it.each([null, undefined, 5, 'lab', [], [goodLab()]])('gives null for a lab part that is not an object: %p', (v) => {
    expect(parseBeaconLab(v)).toBeNull();
  });

  it('parseBeacon carries a good lab part, and leaves it out when the beacon has none', () => {
    expect(parseBeacon(beaconWith(goodLab()))?.lab).toEqual(goodLab());
    const { lab: _none, ...without } = beaconWith(undefined);
    const beacon = parseBeacon(without);
    expect(beacon).not.toBeNull();
    expect(beacon).not.toHaveProperty('lab');
  });

  it('takes maps at the cap (64 keys) and not one more', () => {
    const at = goodLab();
    at.dropped = bigMap(64);
    at.links.n2.sent = bigMap(64);
    at.pbft.slots = Array.from({ length: 64 }, (_, i) => [i, 0, 0, 0]);
    expect(parseBeaconLab(at)).not.toBeNull();
    at.dropped = bigMap(65);
    expect(parseBeaconLab(at)).toBeNull();
  });

  it('hands back maps the sender cannot change afterwards (copies of the counts)', () => {
    const lab = goodLab();
    const parsed = parseBeaconLab(lab)!;
    lab.dropped['link-cut'] = 999;
    lab.links.n2.sent.AppendEntries = 999;
    expect(parsed.dropped['link-cut']).toBe(2);
    expect(parsed.links.n2.sent.AppendEntries).toBe(40);
  });
});

describe('scopeLab', () => {
  it('keeps only replicas of the directory (and never the sender itself as its own peer)', () => {
    const lab = parseBeaconLab({
      ...goodLab(),
      links: { n2: { sent: { Prepare: 1 }, recv: {}, dropped: {} }, n1: { sent: {}, recv: {}, dropped: {} }, 'ghost|x': { sent: {}, recv: {}, dropped: {} } },
      cut: ['n2', 'ghost|x', '<b>evil</b>', 'n1'],
      raft: {
        votedFor: 'ghost',
        votes: ['n1', 'ghost'],
        progress: { n2: { match: 1, next: 2, state: 'probe' }, ghost: { match: 1, next: 2, state: 'probe' } },
      },
      pbft: { ...goodLab().pbft, primary: 'ghost', viewChange: { to: 3, from: ['n2', 'ghost'] } },
    })!;
    const scoped = scopeLab(lab, 'n1', new Set(['n1', 'n2', 'n3']));
    expect(Object.keys(scoped.links)).toEqual(['n2']);
    expect(scoped.cut).toEqual(['n2']);
    expect(scoped.raft).toEqual({ votedFor: null, votes: ['n1'], progress: { n2: { match: 1, next: 2, state: 'probe' } } });
    expect(scoped.pbft).toMatchObject({ primary: null, viewChange: { to: 3, from: ['n2'] } });
  });
});
