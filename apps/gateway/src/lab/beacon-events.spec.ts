import type { Beacon, BeaconLab, Protocol } from '@app/wire';
import { beaconEvents, linkKey } from './beacon-events';

type LabPatch = Partial<Omit<BeaconLab, 'raft' | 'pbft'>> & { raft?: Partial<NonNullable<BeaconLab['raft']>>; pbft?: Partial<NonNullable<BeaconLab['pbft']>> };

function lab(p: LabPatch = {}, protocol: Protocol = 'raft'): BeaconLab {
  const l: BeaconLab = {
    log: { last: 10, commit: 10, applied: 10, snapshot: 0, ...p.log },
    stateTransfers: p.stateTransfers ?? 0,
    links: p.links ?? {},
    dropped: p.dropped ?? {},
    cut: p.cut ?? [],
  };
  if (protocol === 'raft') l.raft = { votedFor: null, votes: [], progress: {}, ...p.raft };
  else l.pbft = { primary: 'n1', viewChanging: false, low: 0, high: 32, slots: [], ...p.pbft };
  return l;
}

function beacon(p: Partial<Beacon> & { lab?: BeaconLab } = {}): Beacon {
  return {
    t: 'beacon',
    id: 'n2',
    protocol: 'raft',
    role: 'follower',
    term: 1,
    leader: null,
    commitIndex: 10,
    appliedIndex: 10,
    alive: true,
    isolated: false,
    byzantine: 'none',
    pid: 100,
    ...p,
  };
}

/** One beacon after another (labs taken from the beacons): the kinds, and the events themselves. */
function step(protocol: Protocol, before: Beacon | null, after: Beacon) {
  const events = beaconEvents(protocol, after, before, before?.lab ?? null);
  return { kinds: events.map((e) => e.kind), events };
}

describe('linkKey', () => {
  it('names a link the same whichever end names it', () => {
    expect(linkKey('n2', 'n1')).toBe('n1|n2');
    expect(linkKey('n1', 'n2')).toBe('n1|n2');
  });
});

describe('beaconEvents (Raft)', () => {
  const cases: Array<[string, Beacon | null, Beacon, string[]]> = [
    ['a follower that stays one: nothing', beacon({ lab: lab() }), beacon({ lab: lab() }), []],
    [
      'a follower becoming candidate: election-started',
      beacon({ lab: lab() }),
      beacon({ role: 'candidate', term: 2, lab: lab({ raft: { votedFor: 'n2' } }) }),
      ['election-started'],
    ],
    [
      'a candidate again in a new term: election-started again',
      beacon({ role: 'candidate', term: 2, lab: lab({ raft: { votedFor: 'n2' } }) }),
      beacon({ role: 'candidate', term: 3, lab: lab({ raft: { votedFor: 'n2' } }) }),
      ['election-started'],
    ],
    [
      'still the same candidacy: nothing',
      beacon({ role: 'candidate', term: 2, lab: lab({ raft: { votedFor: 'n2' } }) }),
      beacon({ role: 'candidate', term: 2, lab: lab({ raft: { votedFor: 'n2' } }) }),
      [],
    ],
    ['a candidate first heard: election-started', null, beacon({ role: 'candidate', term: 2, lab: lab({ raft: { votedFor: 'n2' } }) }), ['election-started']],
    ['a follower voting in its term: vote', beacon({ term: 2, lab: lab() }), beacon({ term: 2, lab: lab({ raft: { votedFor: 'n1' } }) }), ['vote']],
    [
      'a follower voting as it learns a new term: vote',
      beacon({ term: 1, lab: lab({ raft: { votedFor: 'n3' } }) }),
      beacon({ term: 2, lab: lab({ raft: { votedFor: 'n3' } }) }),
      ['vote'],
    ],
    [
      'the same vote on the next beacon: nothing',
      beacon({ term: 2, lab: lab({ raft: { votedFor: 'n1' } }) }),
      beacon({ term: 2, lab: lab({ raft: { votedFor: 'n1' } }) }),
      [],
    ],
    [
      'a candidate voting for itself: no vote event',
      beacon({ term: 1, lab: lab() }),
      beacon({ role: 'candidate', term: 2, lab: lab({ raft: { votedFor: 'n2' } }) }),
      ['election-started'],
    ],
    [
      'a candidate winning: elected',
      beacon({ role: 'candidate', term: 2, lab: lab({ raft: { votedFor: 'n2', votes: ['n2'] } }) }),
      beacon({ role: 'leader', term: 2, leader: 'n2', lab: lab({ raft: { votedFor: 'n2', votes: ['n2', 'n3'] } }) }),
      ['elected'],
    ],
    [
      'a leader still leading: nothing',
      beacon({ role: 'leader', term: 2, lab: lab({ raft: { votedFor: 'n2', votes: ['n2', 'n3'] } }) }),
      beacon({ role: 'leader', term: 2, lab: lab({ raft: { votedFor: 'n2', votes: ['n2', 'n3'] } }) }),
      [],
    ],
    [
      'a leader re-elected in a higher term: elected',
      beacon({ role: 'leader', term: 2, lab: lab({ raft: { votedFor: 'n2', votes: ['n2', 'n3'] } }) }),
      beacon({ role: 'leader', term: 4, lab: lab({ raft: { votedFor: 'n2', votes: ['n2', 'n1'] } }) }),
      ['elected'],
    ],
    ['a leader first heard: elected', null, beacon({ role: 'leader', term: 2, lab: lab({ raft: { votedFor: 'n2', votes: ['n2', 'n1'] } }) }), ['elected']],
    [
      'its log compacted within what it applied: snapshot',
      beacon({ lab: lab({ log: { applied: 60, snapshot: 0 } as any }) }),
      beacon({ lab: lab({ log: { applied: 70, snapshot: 50 } as any }) }),
      ['snapshot'],
    ],
    [
      'a snapshot installed from the leader (the replica counts it): state-transfer',
      beacon({ lab: lab({ log: { applied: 20, snapshot: 0 } as any }) }),
      beacon({ lab: lab({ log: { applied: 100, snapshot: 100 } as any, stateTransfers: 1 }) }),
      ['state-transfer'],
    ],
    [
      'its own snapshot past what the previous beacon said it had applied (it ran on between beacons): snapshot, not state-transfer',
      beacon({ lab: lab({ log: { applied: 20, snapshot: 0 } as any }) }),
      beacon({ lab: lab({ log: { applied: 100, snapshot: 100 } as any }) }),
      ['snapshot'],
    ],
    [
      'the snapshot index unchanged: nothing',
      beacon({ lab: lab({ log: { applied: 60, snapshot: 50 } as any }) }),
      beacon({ lab: lab({ log: { applied: 70, snapshot: 50 } as any }) }),
      [],
    ],
    ['no previous lab figures: no snapshot event', beacon(), beacon({ lab: lab({ log: { applied: 70, snapshot: 50 } as any }) }), []],
    ['isolated', beacon({ lab: lab() }), beacon({ isolated: true, lab: lab() }), ['isolated']],
    ['healed', beacon({ isolated: true, lab: lab() }), beacon({ lab: lab() }), ['healed']],
    ['isolated and first heard: no event (nothing changed that we saw)', null, beacon({ isolated: true, lab: lab() }), []],
  ];

  it.each(cases)('%s', (_what, before, after, kinds) => {
    expect(step('raft', before, after).kinds).toEqual(kinds);
  });

  it('a vote names the candidate and the term; it is not repeated on the next beacon, and a new vote in a later term is', () => {
    const b0 = beacon({ term: 2, lab: lab() });
    const b1 = beacon({ term: 2, lab: lab({ raft: { votedFor: 'n1' } }) });
    const b2 = beacon({ term: 2, lab: lab({ raft: { votedFor: 'n1' } }) });
    const b3 = beacon({ term: 3, lab: lab({ raft: { votedFor: 'n3' } }) });
    const first = step('raft', b0, b1).events;
    expect(first).toEqual([{ kind: 'vote', node: 'n2', term: 2, text: expect.stringContaining('n1'), data: { for: 'n1' } }]);
    expect(step('raft', b1, b2).events).toEqual([]);
    expect(step('raft', b2, b3).events).toEqual([expect.objectContaining({ kind: 'vote', term: 3, data: { for: 'n3' } })]);
  });

  it('elected carries the votes', () => {
    const before = beacon({ role: 'candidate', term: 5, lab: lab({ raft: { votedFor: 'n2', votes: ['n2'] } }) });
    const after = beacon({ role: 'leader', term: 5, leader: 'n2', lab: lab({ raft: { votedFor: 'n2', votes: ['n2', 'n1', 'n3'] } }) });
    const [e] = step('raft', before, after).events;
    expect(e).toEqual({ kind: 'elected', node: 'n2', term: 5, text: expect.stringContaining('n2, n1, n3'), data: { votes: ['n2', 'n1', 'n3'] } });
  });

  it('a revived leader (its previous beacon dead) is elected again', () => {
    const before = beacon({ role: 'leader', term: 2, alive: false, lab: lab() });
    expect(step('raft', before, beacon({ role: 'leader', term: 2, lab: lab() })).kinds).toEqual(['elected']);
  });

  it('the snapshot and state-transfer events carry the index', () => {
    const before = beacon({ lab: lab({ log: { applied: 60, snapshot: 0 } as any }) });
    expect(step('raft', before, beacon({ lab: lab({ log: { applied: 60, snapshot: 60 } as any }) })).events[0]).toMatchObject({
      kind: 'snapshot',
      node: 'n2',
      data: { index: 60 },
    });
    expect(step('raft', before, beacon({ lab: lab({ log: { applied: 90, snapshot: 61 } as any, stateTransfers: 1 }) })).events[0]).toMatchObject({
      kind: 'state-transfer',
      data: { index: 61 },
    });
  });

  it("a dead replica's beacon gives no election, vote or log events, whatever it says", () => {
    const before = beacon({ term: 1, lab: lab({ log: { applied: 10, snapshot: 0 } as any }) });
    const dead = (role: string) =>
      beacon({ role, term: 2, alive: false, lab: lab({ raft: { votedFor: 'n1', votes: ['n2', 'n1'] }, log: { applied: 90, snapshot: 80 } as any }) });
    for (const role of ['candidate', 'leader', 'follower']) expect(step('raft', before, dead(role)).events).toEqual([]);
    expect(step('raft', null, dead('leader')).events).toEqual([]);
  });

  it('a dead replica still reports isolation, Byzantine switches and drops (those are not elections)', () => {
    const before = beacon({ alive: false, lab: lab({ dropped: { killed: 1 } }) });
    const after = beacon({ alive: false, isolated: true, lab: lab({ dropped: { killed: 5 } }) });
    expect(step('raft', before, after).kinds).toEqual(['isolated', 'drops']);
  });
});

describe('beaconEvents (PBFT)', () => {
  const pb = (p: Partial<Beacon> & { lab?: BeaconLab } = {}) => beacon({ protocol: 'pbft', role: 'backup', term: 0, leader: 'n1', lab: lab({}, 'pbft'), ...p });
  const pl = (p: LabPatch) => lab(p, 'pbft');

  const cases: Array<[string, Beacon | null, Beacon, string[]]> = [
    ['a backup staying one: nothing', pb(), pb(), []],
    [
      'a backup starting a view change: view-change',
      pb(),
      pb({ role: 'view-changing', term: 1, lab: pl({ pbft: { viewChanging: true, primary: null, viewChange: { to: 1, from: ['n2', 'n3'] } } }) }),
      ['view-change'],
    ],
    [
      'still changing to the same view: nothing',
      pb({ role: 'view-changing', term: 1 }),
      pb({ role: 'view-changing', term: 1, lab: pl({ pbft: { viewChanging: true, viewChange: { to: 1, from: ['n2', 'n3', 'n4'] } } }) }),
      [],
    ],
    ['giving up on a view for the next: view-change again', pb({ role: 'view-changing', term: 1 }), pb({ role: 'view-changing', term: 2 }), ['view-change']],
    ['back to backup in the new view: new-view', pb({ role: 'view-changing', term: 1 }), pb({ role: 'backup', term: 1, leader: 'n2' }), ['new-view']],
    ['a backup in a higher view without changing in between: new-view', pb({ term: 0 }), pb({ term: 3, leader: 'n4' }), ['new-view']],
    [
      'the new primary: new-view and elected',
      pb({ role: 'view-changing', term: 1 }),
      pb({ id: 'n2', role: 'primary', term: 1, leader: 'n2' }),
      ['new-view', 'elected'],
    ],
    ['a primary first heard: elected only', null, pb({ role: 'primary', term: 0, leader: 'n2' }), ['elected']],
    ['a primary staying one: nothing', pb({ role: 'primary', term: 0 }), pb({ role: 'primary', term: 0 }), []],
    [
      'a stable checkpoint within what it executed: checkpoint',
      pb({ lab: pl({ log: { applied: 20, snapshot: 8 } as any }) }),
      pb({ lab: pl({ log: { applied: 24, snapshot: 16 } as any }) }),
      ['checkpoint'],
    ],
    [
      'a state transfer (the replica counts it): state-transfer',
      pb({ lab: pl({ log: { applied: 5, snapshot: 0 } as any }) }),
      pb({ lab: pl({ log: { applied: 64, snapshot: 64 } as any, stateTransfers: 2 }) }),
      ['state-transfer'],
    ],
    [
      'a checkpoint stable past what the previous beacon said it had executed (it executed on between beacons): checkpoint',
      pb({ lab: pl({ log: { applied: 5, snapshot: 0 } as any }) }),
      pb({ lab: pl({ log: { applied: 64, snapshot: 64 } as any }) }),
      ['checkpoint'],
    ],
    ['turned Byzantine', pb(), pb({ byzantine: 'forge' }), ['byzantine']],
    ['honest again', pb({ byzantine: 'forge' }), pb(), ['byzantine']],
  ];

  it.each(cases)('%s', (_what, before, after, kinds) => {
    expect(step('pbft', before, after).kinds).toEqual(kinds);
  });

  it('view-change says to which view and from whom', () => {
    const after = pb({ role: 'view-changing', term: 4, lab: pl({ pbft: { viewChanging: true, primary: null, viewChange: { to: 4, from: ['n3', 'n4'] } } }) });
    expect(step('pbft', pb({ term: 3 }), after).events).toEqual([
      { kind: 'view-change', node: 'n2', term: 4, text: expect.stringContaining('n3, n4'), data: { to: 4, from: ['n3', 'n4'] } },
    ]);
    // No VIEW-CHANGE held yet (or no lab part at all): from is empty.
    expect(step('pbft', pb({ term: 3 }), pb({ role: 'view-changing', term: 4, lab: undefined })).events[0].data).toEqual({ to: 4, from: [] });
  });

  it('new-view names the primary; checkpoint carries the sequence number', () => {
    expect(step('pbft', pb({ role: 'view-changing', term: 1 }), pb({ term: 1, leader: 'n2' })).events[0]).toMatchObject({
      kind: 'new-view',
      term: 1,
      data: { primary: 'n2' },
    });
    const cp = step('pbft', pb({ lab: pl({ log: { applied: 20, snapshot: 8 } as any }) }), pb({ lab: pl({ log: { applied: 20, snapshot: 16 } as any }) }));
    expect(cp.events[0]).toMatchObject({ kind: 'checkpoint', data: { seq: 16 } });
  });

  it('a Byzantine switch says the behaviour, and "none" when healed', () => {
    const [on] = step('pbft', pb(), pb({ byzantine: 'wrong-digest' })).events;
    expect(on).toEqual({ kind: 'byzantine', node: 'n2', text: expect.stringContaining('wrong-digest'), data: { behavior: 'wrong-digest' } });
    const [off] = step('pbft', pb({ byzantine: 'wrong-digest' }), pb()).events;
    expect(off).toEqual({ kind: 'byzantine', node: 'n2', text: expect.stringContaining('honest'), data: { behavior: 'none' } });
    expect(step('pbft', pb({ byzantine: 'forge' }), pb({ byzantine: 'replay' })).events[0].data).toEqual({ behavior: 'replay' });
  });

  it("a dead primary's beacon gives no view events", () => {
    expect(step('pbft', pb({ role: 'view-changing', term: 1 }), pb({ role: 'primary', term: 2, alive: false })).events).toEqual([]);
    expect(step('pbft', pb(), pb({ role: 'view-changing', term: 2, alive: false })).events).toEqual([]);
  });
});

describe('beaconEvents: drops', () => {
  const withDrops = (dropped: Record<string, number>) => beacon({ lab: lab({ dropped }) });

  it('reports only what grew since the previous beacon, by reason', () => {
    const before = withDrops({ 'bad-signature': 10, 'link-cut': 3, isolated: 7 });
    const after = withDrops({ 'bad-signature': 14, 'link-cut': 3, isolated: 7, 'digest-mismatch': 2 });
    const events = step('raft', before, after).events;
    expect(events).toEqual([
      { kind: 'drops', node: 'n2', text: expect.stringContaining('4 bad-signature'), data: { dropped: { 'bad-signature': 4, 'digest-mismatch': 2 } } },
    ]);
    expect(events[0].text).toContain('2 digest-mismatch');
  });

  it('nothing when no count grew (or one went down: a new process starts from zero)', () => {
    expect(step('raft', withDrops({ a: 3 }), withDrops({ a: 3 })).events).toEqual([]);
    expect(step('raft', withDrops({ a: 30 }), withDrops({ a: 2 })).events).toEqual([]);
  });

  it('nothing without a previous lab part to compare with', () => {
    expect(step('raft', null, withDrops({ a: 3 })).events).toEqual([]);
    expect(beaconEvents('raft', withDrops({ a: 3 }), beacon(), null)).toEqual([]);
  });
});
