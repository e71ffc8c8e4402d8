import { withMutants, type RaftMutant } from '../mutants';
import { TestCluster } from './testing/cluster';
import type { AppendEntries, Entry, Message, RaftConfig, RequestVote, RequestVoteResponse } from './types';

/**
 * One test per rule the simulator cannot reach (learners, pre-vote rounds, a Ready overtaken by a
 * step): each sends exactly the message the rule is for. Every test runs its scenario twice — as
 * is, where the rule must hold, and with the rule's mutant on (mutants.ts), where it must not — so
 * the test is known to kill that mutant (`npm run mutants`), in CI too.
 */
function killsMutant<T>(mutant: RaftMutant, scenario: () => T, holds: (outcome: T) => void, broken: (outcome: T) => void): void {
  holds(scenario());
  broken(withMutants([mutant], scenario));
}

const E = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: Buffer.from(`e${index}t${term}`) });

/** Three voters n1..n3 and two learners n4, n5, n1 elected. */
function withLearners(overrides: Partial<RaftConfig> = {}): TestCluster {
  const c = new TestCluster(['n1', 'n2', 'n3', 'n4', 'n5'], { configuration: { voters: ['n1', 'n2', 'n3'], learners: ['n4', 'n5'] }, ...overrides });
  c.elect('n1');
  expect(c.leader()).toBe('n1');
  return c;
}

/** The messages `from` has queued, taken off the queue. */
function drain(c: TestCluster, from: string): Message[] {
  const mine = c.queue.filter((m) => m.from === from);
  c.queue = c.queue.filter((m) => m.from !== from);
  return mine;
}

function step(c: TestCluster, to: string, m: Message): void {
  c.node(to).step(m);
  c.process(to);
}

const grant = (from: string, to: string, term: number, preVote: boolean): RequestVoteResponse => ({
  type: 'RequestVoteResponse',
  from,
  to,
  term,
  preVote,
  voteGranted: true,
});

describe('Raft rules, one message each (mutation testing, issue 10)', () => {
  it("check-quorum's lease: a follower that hears from a live leader ignores a higher-term candidate (§4.2.3)", () => {
    killsMutant(
      'raft.vote.skip-lease',
      () => {
        const c = new TestCluster(['n1', 'n2', 'n3']);
        c.elect('n1');
        c.queue = [];
        const vote: RequestVote = { type: 'RequestVote', from: 'n2', to: 'n3', term: 2, preVote: false, lastLogIndex: 1, lastLogTerm: 1, transfer: false };
        step(c, 'n3', vote);
        return { term: c.node('n3').status().term, answers: drain(c, 'n3').length };
      },
      (o) => expect(o).toEqual({ term: 1, answers: 0 }),
      (o) => expect(o.term).toBe(2),
    );
  });

  it("a learner's vote does not count", () => {
    killsMutant(
      'raft.vote.count-non-voter',
      () => {
        const c = new TestCluster(['n1', 'n2', 'n3', 'n4', 'n5'], { preVote: false, configuration: { voters: ['n1', 'n2', 'n3'], learners: ['n4', 'n5'] } });
        c.tick('n1', 30);
        expect(c.node('n1').status().role).toBe('candidate');
        const term = c.node('n1').status().term;
        step(c, 'n1', grant('n4', 'n1', term, false));
        return c.node('n1').status().role;
      },
      (role) => expect(role).toBe('candidate'),
      (role) => expect(role).toBe('leader'),
    );
  });

  it('a pre-vote grant of an older round does not count (§9.6)', () => {
    killsMutant(
      'raft.pre-vote.accept-stale-grant',
      () => {
        const c = new TestCluster(['n1', 'n2', 'n3']);
        c.tick('n1', 30);
        expect(c.node('n1').status()).toMatchObject({ role: 'pre-candidate', term: 0 });
        // This round asks for term 1; a grant carrying term 0 answered an earlier round.
        step(c, 'n1', grant('n2', 'n1', 0, true));
        return c.node('n1').status();
      },
      (s) => expect(s).toMatchObject({ role: 'pre-candidate', term: 0 }),
      (s) => expect(s).toMatchObject({ role: 'candidate', term: 1 }),
    );
  });

  it('a learner never campaigns, not on its election timeout nor on TimeoutNow', () => {
    killsMutant(
      'raft.campaign.allow-learner',
      () => {
        const c = withLearners();
        c.isolate('n4'); // it hears from no leader: its election timer runs out
        c.tick('n4', 50);
        step(c, 'n4', { type: 'TimeoutNow', from: 'n1', to: 'n4', term: c.node('n1').status().term });
        return { role: c.node('n4').status().role, votes: c.queue.filter((m) => m.from === 'n4' && m.type === 'RequestVote').length };
      },
      (o) => expect(o).toEqual({ role: 'follower', votes: 0 }),
      (o) => expect(o.votes).toBeGreaterThan(0),
    );
  });

  it("learners' match indexes do not commit an entry", () => {
    killsMutant(
      'raft.commit.count-learners',
      () => {
        const c = withLearners();
        const before = c.node('n1').status().commitIndex;
        c.cutLink('n1', 'n2');
        c.cutLink('n1', 'n3');
        c.propose('n1', 'x');
        c.deliver();
        return { before, after: c.node('n1').status().commitIndex };
      },
      (o) => expect(o.after).toBe(o.before),
      (o) => expect(o.after).toBeGreaterThan(o.before),
    );
  });

  it("a learner's heartbeat answer does not confirm a ReadIndex", () => {
    killsMutant(
      'raft.read-index.ack-non-voter',
      () => {
        const c = withLearners();
        c.cutLink('n1', 'n2');
        c.cutLink('n1', 'n3');
        c.node('n1').readIndex('r1');
        c.process('n1');
        for (let i = 0; i < 3; i++) {
          c.tick('n1');
          c.deliver();
        }
        return c.readStates.get('n1')!.map((r) => r.ctx);
      },
      (served) => expect(served).toEqual([]),
      (served) => expect(served).toEqual(['r1']),
    );
  });

  it('a ReadIndex is served only once a quorum confirmed the leadership (§6.4)', () => {
    killsMutant(
      'raft.read-index.skip-confirmation',
      () => {
        const c = new TestCluster(['n1', 'n2', 'n3']);
        c.elect('n1');
        c.tick('n1');
        c.deliver();
        c.isolate('n1'); // deposed already, for all it knows
        c.node('n1').readIndex('r1');
        c.process('n1');
        c.deliver();
        return c.readStates.get('n1')!.map((r) => r.ctx);
      },
      (served) => expect(served).toEqual([]),
      (served) => expect(served).toEqual(['r1']),
    );
  });

  it('entries replaced while their Ready was being persisted are persisted again', () => {
    // The production runtime persists a Ready asynchronously and steps messages meanwhile.
    killsMutant(
      'raft.log.stable-after-replace',
      () => {
        const c = new TestCluster(['n1', 'n2', 'n3']);
        const n2 = c.node('n2');
        const ae = (from: string, term: number, prevLogIndex: number, prevLogTerm: number, entries: Entry[]): AppendEntries => ({
          type: 'AppendEntries',
          from,
          to: 'n2',
          term,
          prevLogIndex,
          prevLogTerm,
          entries,
          leaderCommit: 0,
          readCtx: null,
        });
        n2.step(ae('n1', 1, 0, 0, [E(1, 1), E(2, 1), E(3, 1)]));
        const rd = n2.ready();
        expect(rd.entries.map((e) => e.index)).toEqual([1, 2, 3]);
        // Before that Ready is on disk, a leader of term 2 replaces index 2 onwards.
        n2.step(ae('n3', 2, 1, 1, [E(2, 2)]));
        n2.advance(rd);
        return n2.ready().entries.map((e) => `${e.index}@${e.term}`);
      },
      (entries) => expect(entries).toContain('2@2'),
      (entries) => expect(entries).not.toContain('2@2'),
    );
  });
});
