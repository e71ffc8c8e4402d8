import { TestCluster } from './testing/cluster';
import { Entry, MAX_TERM, Message, NodeId, PersistentState, RaftFaults } from './types';

const E = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: Buffer.from(`e${index}t${term}`) });
const persisted = (term: number, entries: Entry[] = []): PersistentState => ({
  hardState: { currentTerm: term, votedFor: null, commitIndex: 0 },
  snapshot: null,
  entries,
});

/** A cluster whose nodes start from the given stored states (the same path as a process start). */
function clusterFrom(states: Record<NodeId, PersistentState>, faults: Record<NodeId, RaftFaults> = {}): TestCluster {
  const ids = Object.keys(states);
  const c = new TestCluster(ids, {}, faults);
  for (const id of ids) {
    c.persisted.set(id, states[id]);
    c.start(id);
  }
  c.queue = [];
  return c;
}

/** The attack that once made a cluster leaderless for good: a vote "from n3" that skips the check-quorum lease. */
const forgedVote = (to: NodeId, term: number, preVote = false): Message => ({
  type: 'RequestVote',
  from: 'n3',
  to,
  term,
  preVote,
  lastLogIndex: 1_000,
  lastLogTerm: 1,
  transfer: true,
});

const forged: Record<string, (to: NodeId, term: number) => Message> = {
  RequestVote: (to, term) => forgedVote(to, term),
  PreVote: (to, term) => forgedVote(to, term, true),
  AppendEntries: (to, term) => ({
    type: 'AppendEntries',
    from: 'n3',
    to,
    term,
    prevLogIndex: 1,
    prevLogTerm: 1,
    entries: [E(2, 1)],
    leaderCommit: 2,
    readCtx: null,
  }),
  InstallSnapshot: (to, term) => ({
    type: 'InstallSnapshot',
    from: 'n3',
    to,
    term,
    snapshot: { lastIncludedIndex: 50, lastIncludedTerm: 1, configuration: { voters: ['n1', 'n2', 'n3'], learners: [] }, data: Buffer.from('x') },
  }),
  TimeoutNow: (to, term) => ({ type: 'TimeoutNow', from: 'n3', to, term }),
};

/** What the wire validator did before the ceiling existed: only safe integers pass (2^53 does not). */
const oldWire = (m: Message) => Number.isSafeInteger(m.term);

/** Rounds of: every node ticks, then the network (old wire rule) delivers everything. */
function run(c: TestCluster, rounds: number, filter: (m: Message) => boolean = () => true): void {
  for (let i = 0; i < rounds; i++) {
    c.tickAll();
    c.deliver(filter);
  }
}

const sentRequestVote = (c: TestCluster, from: NodeId) => c.queue.some((m) => m.type === 'RequestVote' && m.from === from);

describe('Raft term ceiling (MAX_TERM)', () => {
  it('keeps MAX_TERM + 1 exact, so a node at the ceiling still compares terms correctly', () => {
    expect(MAX_TERM).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect(Number.isSafeInteger(MAX_TERM + 1)).toBe(true);
  });

  describe.each(Object.keys(forged))('%s with a term above the ceiling', (kind) => {
    it.each([
      ['2^53-1', MAX_TERM + 1],
      ['2^53', 2 ** 53],
      ['Number.MAX_VALUE', Number.MAX_VALUE],
    ])('is ignored at %s: no term, vote, leader or log change, no answer', (_name, term) => {
      const c = new TestCluster(['n1', 'n2', 'n3']);
      c.elect('n1');
      c.tick('n1');
      c.deliver();
      const before = ['n1', 'n2'].map((id) => c.node(id).status());
      for (const id of ['n1', 'n2']) {
        c.node(id).step(forged[kind](id, term));
        c.process(id);
      }
      expect(c.queue).toEqual([]); // not even a refusal: nothing of it reaches the core's state
      for (const [i, id] of ['n1', 'n2'].entries()) {
        const s = c.node(id).status();
        expect({ term: s.term, votedFor: s.votedFor, leader: s.leader, role: s.role, lastIndex: s.lastIndex, fatal: s.fatal }).toEqual({
          term: before[i].term,
          votedFor: before[i].votedFor,
          leader: before[i].leader,
          role: before[i].role,
          lastIndex: before[i].lastIndex,
          fatal: null,
        });
      }
      expect(c.persisted.get('n1')!.hardState.currentTerm).toBe(1);
      // The cluster carries on in term 1.
      c.propose('n1', 'after');
      c.deliver();
      c.tick('n1');
      c.deliver();
      for (const id of c.ids) expect(c.appliedData(id)).toEqual(['after']);
      expect(c.fatals.get('n1')).toEqual([]);
    });
  });

  it('a forged vote at exactly MAX_TERM is loud: every node reports term-exhausted once and none campaigns', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    for (const id of ['n1', 'n2']) c.node(id).step(forgedVote(id, MAX_TERM));
    for (const id of ['n1', 'n2']) c.process(id);
    c.deliver(); // the grants reach n3, which adopts the term too
    run(c, 100);
    for (const id of c.ids) {
      expect(c.node(id).status()).toMatchObject({ term: MAX_TERM, fatal: { reason: 'term-exhausted', term: MAX_TERM } });
      expect(c.fatals.get(id)).toEqual([{ reason: 'term-exhausted', term: MAX_TERM }]); // once, not every election timeout
    }
    expect(c.leader()).toBeNull();
    c.tickAll(30);
    for (const id of c.ids) expect(sentRequestVote(c, id)).toBe(false);
  });

  it.each([
    ['at the ceiling', MAX_TERM],
    ['above it (stored before the ceiling existed)', Number.MAX_SAFE_INTEGER],
  ])('a node restored with its term %s reports term-exhausted in its first Ready and never campaigns', (_name, term) => {
    const c = clusterFrom({ n1: persisted(term, [E(1, 1)]), n2: persisted(1, [E(1, 1)]), n3: persisted(1, [E(1, 1)]) });
    expect(c.fatals.get('n1')).toEqual([{ reason: 'term-exhausted', term }]);
    expect(c.node('n1').status().fatal).toEqual({ reason: 'term-exhausted', term });
    c.isolate('n1');
    for (let i = 0; i < 100; i++) c.tick('n1'); // ten election timeouts
    c.node('n1').step({ type: 'TimeoutNow', from: 'n2', to: 'n1', term }); // not even a transfer
    c.process('n1');
    expect(sentRequestVote(c, 'n1')).toBe(false);
    expect(c.node('n1').status()).toMatchObject({ role: 'follower', term });
    expect(c.persisted.get('n1')!.hardState.currentTerm).toBe(term);
    expect(c.fatals.get('n1')).toHaveLength(1);
    for (const id of ['n2', 'n3']) expect(c.fatals.get(id)).toEqual([]);
  });

  it('the last term is still usable: a campaign from MAX_TERM - 1 wins MAX_TERM, commits, and reports the ceiling', () => {
    const c = clusterFrom({ n1: persisted(MAX_TERM - 1, [E(1, 1)]), n2: persisted(MAX_TERM - 1, [E(1, 1)]), n3: persisted(MAX_TERM - 1, [E(1, 1)]) });
    for (const id of c.ids) expect(c.fatals.get(id)).toEqual([]);
    c.elect('n1');
    expect(c.leader()).toBe('n1');
    expect(c.node('n1').status().term).toBe(MAX_TERM);
    c.propose('n1', 'last');
    c.deliver();
    c.tick('n1');
    c.deliver();
    for (const id of c.ids) {
      expect(c.appliedData(id)).toEqual(['e1t1', 'last']);
      expect(c.fatals.get(id)).toEqual([{ reason: 'term-exhausted', term: MAX_TERM }]);
    }
  });

  /**
   * The attack as it happened: a forged RequestVote at 2^53-1 with `transfer` (past the lease), then
   * the old wire rule. With the ceiling the vote is ignored and the cluster keeps a leader; the canary
   * (no ceiling in the core) reproduces the silent stall, so this test can fail.
   */
  function attack(faults?: RaftFaults) {
    const ids = ['n1', 'n2', 'n3'];
    const c = new TestCluster(ids, {}, faults ? Object.fromEntries(ids.map((id) => [id, faults])) : {});
    c.elect('n1');
    for (const id of ['n1', 'n2']) c.node(id).step(forgedVote(id, Number.MAX_SAFE_INTEGER));
    for (const id of ['n1', 'n2']) c.process(id);
    c.deliver(oldWire);
    c.isolate('n1'); // lose the leader: someone must win an election now
    run(c, 200, oldWire);
    c.heal();
    run(c, 200, oldWire);
    return { leader: c.leader(), terms: ids.map((id) => c.node(id).status().term), fatals: ids.flatMap((id) => c.fatals.get(id)!) };
  }

  it('a forged 2^53-1 vote changes nothing: after losing its leader the cluster elects another', () => {
    const r = attack();
    expect(r.leader).not.toBeNull();
    for (const t of r.terms) expect(t).toBeLessThan(100);
    expect(r.fatals).toEqual([]);
  });

  it('canary: without the ceiling the same vote leaves the cluster leaderless, silently', () => {
    const r = attack({ skipTermCeiling: true });
    expect(r.leader).toBeNull();
    expect(r.terms).toEqual([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
    expect(r.fatals).toEqual([]); // nothing said it
  });
});
