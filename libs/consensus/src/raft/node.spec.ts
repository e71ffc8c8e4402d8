import { TestCluster } from './testing/cluster';
import { AppendEntries, Entry, Message, PersistentState, RequestVote } from './types';

const E = (index: number, term: number, data = `e${index}t${term}`): Entry => ({ index, term, type: 'normal', data: Buffer.from(data) });
const persisted = (term: number, entries: Entry[], commitIndex = 0): PersistentState => ({
  hardState: { currentTerm: term, votedFor: null, commitIndex },
  snapshot: null,
  entries,
});

/** A cluster whose nodes start from the given stored logs. */
function clusterFrom(logs: Record<string, PersistentState>, overrides = {}, faults = {}): TestCluster {
  const ids = Object.keys(logs);
  const c = new TestCluster(ids, overrides, faults);
  for (const id of ids) {
    c.persisted.set(id, logs[id]);
    c.start(id);
  }
  c.queue = [];
  return c;
}

describe('Raft elections', () => {
  it('elects the node whose timer fires first and commits a no-op of its term', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    expect(c.leader()).toBe('n1');
    for (const id of c.ids) {
      expect(c.node(id).status().term).toBe(1);
      expect(c.node(id).status().leader).toBe('n1');
    }
    expect(c.node('n1').status().commitIndex).toBe(1);
    c.tick('n1');
    c.deliver();
    for (const id of c.ids) expect(c.applied.get(id)!.map((e) => e.type)).toEqual(['noop']);
  });

  it('a pre-vote round does not raise the term; only a won pre-vote starts the election', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.isolate('n1');
    c.tick('n1', 100);
    c.deliver();
    expect(c.node('n1').status().term).toBe(0);
    expect(c.node('n1').status().role).toBe('pre-candidate');
  });

  it('refuses a vote to a candidate whose log is behind (§5.4.1)', () => {
    const c = clusterFrom(
      {
        n1: persisted(2, [E(1, 1), E(2, 2)]),
        n2: persisted(2, [E(1, 1), E(2, 2)]),
        n3: persisted(2, [E(1, 1)]),
      },
      { preVote: false },
    );
    c.elect('n3');
    expect(c.node('n3').status().role).not.toBe('leader');
    expect(c.leader()).toBeNull();
  });

  it('canary: without the up-to-date check the stale candidate wins', () => {
    const logs = {
      n1: persisted(2, [E(1, 1), E(2, 2)]),
      n2: persisted(2, [E(1, 1), E(2, 2)]),
      n3: persisted(2, [E(1, 1)]),
    };
    const c = clusterFrom(logs, { preVote: false }, { n1: { skipUpToDateCheck: true }, n2: { skipUpToDateCheck: true } });
    c.elect('n3');
    expect(c.leader()).toBe('n3');
  });

  it('persists the vote: a restarted voter does not vote twice in one term', () => {
    const c = new TestCluster(['n1', 'n2', 'n3'], { preVote: false });
    c.cutLink('n1', 'n3');
    c.elect('n1'); // n2 votes for n1 in term 1
    expect(c.node('n2').status().votedFor).toBe('n1');
    c.start('n2');
    expect(c.node('n2').status().votedFor).toBe('n1');
  });

  it('canary: a voter that forgets its vote across a restart can elect two leaders in one term', () => {
    const c = new TestCluster(['n1', 'n2', 'n3'], { preVote: false, checkQuorum: false }, { n2: { forgetVote: true } });
    const votesOnly = (m: Message) => m.type === 'RequestVote' || m.type === 'RequestVoteResponse';
    c.cutLink('n1', 'n3');
    c.elect('n1', votesOnly); // n2 votes for n1 in term 1; n1's entries reach nobody
    expect(c.leader()).toBe('n1');
    c.start('n2'); // crash + restart: the vote was never persisted
    c.isolate('n1');
    c.elect('n3', votesOnly);
    expect(c.node('n3').status().term).toBe(1);
    expect(c.node('n3').status().role).toBe('leader');
    expect(c.node('n1').status().role).toBe('leader');
  });
});

describe('Raft replication', () => {
  it('replicates proposals, commits by majority and refuses proposals on followers with a hint', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    const r = c.propose('n1', 'a', 'b', 'c');
    expect(r).toEqual({ ok: true, index: 2, term: 1 });
    c.deliver();
    c.tick('n1');
    c.deliver();
    for (const id of c.ids) expect(c.appliedData(id)).toEqual(['a', 'b', 'c']);
    expect(c.propose('n2', 'x')).toEqual({ ok: false, leaderHint: 'n1', reason: 'not-leader' });
  });

  it('commits with a minority down and not with a majority down', () => {
    const c = new TestCluster(['n1', 'n2', 'n3', 'n4', 'n5']);
    c.elect('n1');
    c.isolate('n4');
    c.isolate('n5');
    c.propose('n1', 'x');
    c.deliver();
    expect(c.node('n1').status().commitIndex).toBe(2);
    c.isolate('n3');
    c.propose('n1', 'y');
    c.deliver();
    expect(c.node('n1').status().commitIndex).toBe(2);
  });

  it('truncates a follower’s conflicting suffix and finds the match point with few round trips (fast back-off)', () => {
    const stale = [E(1, 1)];
    for (let i = 2; i <= 40; i++) stale.push(E(i, 2, `stale${i}`));
    const good = [E(1, 1), E(2, 3), E(3, 3)];
    const c = clusterFrom({ n1: persisted(3, good, 1), n2: persisted(3, good, 1), n3: persisted(3, stale, 1) }, { preVote: false });
    c.elect('n1');
    const rejections: Message[] = [];
    c.deliver((m) => {
      if (m.type === 'AppendEntriesResponse' && !m.success) rejections.push(m);
      return true;
    });
    expect(rejections.filter((m) => m.from === 'n3').length).toBeLessThanOrEqual(2);
    c.tick('n1');
    c.deliver();
    const n3 = c
      .node('n3')
      .logEntries()
      .map((e) => `${e.index}:${e.term}`);
    expect(n3).toEqual(
      c
        .node('n1')
        .logEntries()
        .map((e) => `${e.index}:${e.term}`),
    );
    expect(c.persisted.get('n3')!.entries.length).toBe(4);
  });

  it('Figure 8: an entry of an earlier term is not committed by counting replicas', () => {
    // s1 led term 2 and put index 2 on s2; s5 led term 3 and wrote its own index 2.
    const logs = () => ({
      s1: persisted(3, [E(1, 1), E(2, 2)], 1),
      s2: persisted(3, [E(1, 1), E(2, 2)], 1),
      s3: persisted(3, [E(1, 1)], 1),
      s4: persisted(3, [E(1, 1)], 1),
      s5: persisted(3, [E(1, 1), E(2, 3)], 1),
    });
    const run = (faults = {}) => {
      const c = clusterFrom(logs(), { preVote: false, maxEntriesPerMessage: 1 }, faults);
      // s3 may get index 2 but never the new term's no-op at 3; s4 and s5 hear nothing after voting.
      const onlyIndex2 = (m: Message) =>
        !(m.type === 'AppendEntries' && ['s4', 's5'].includes(m.to)) &&
        !(m.type === 'AppendEntries' && m.to === 's3' && m.entries.some((e) => e.index > 2) && c.node('s3').status().lastIndex >= 2);
      c.elect('s1', onlyIndex2);
      return c;
    };
    const ok = run();
    expect(ok.leader()).toBe('s1');
    expect(
      ok
        .node('s3')
        .logEntries()
        .map((e) => e.term),
    ).toEqual([1, 2]);
    expect(ok.node('s1').status().commitIndex).toBe(1);

    const broken = run({ s1: { commitPreviousTermByCount: true } });
    expect(broken.node('s1').status().commitIndex).toBe(2);
  });

  it('bounds the AppendEntries in flight to one follower', () => {
    const c = new TestCluster(['n1', 'n2', 'n3'], { maxEntriesPerMessage: 1, maxInflight: 3 });
    c.elect('n1');
    c.tick('n1');
    c.deliver();
    for (let i = 0; i < 10; i++) c.propose('n1', `p${i}`);
    const toN2 = c.queue.filter((m) => m.type === 'AppendEntries' && m.to === 'n2' && m.entries.length > 0);
    expect(toN2.length).toBe(3);
    c.deliver();
    c.tick('n1');
    c.deliver();
    expect(c.appliedData('n2')).toHaveLength(10);
  });

  it('recovers from lost AppendEntries through the heartbeat retransmission', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'lost');
    c.deliver((m) => !(m.type === 'AppendEntries' && m.entries.length > 0));
    for (let i = 0; i < 5; i++) {
      c.tick('n1');
      c.deliver();
    }
    for (const id of c.ids) expect(c.appliedData(id)).toEqual(['lost']);
  });

  it('status().leaderCommit: what the leader said it committed, ahead of a lagging follower’s own commitIndex', () => {
    const c = new TestCluster(['n1', 'n2', 'n3'], { maxEntriesPerMessage: 4 });
    c.elect('n1');
    c.tick('n1');
    c.deliver(); // every node knows the no-op (index 1) committed
    c.isolate('n3');
    for (let i = 0; i < 20; i++) c.propose('n1', `v${i}`);
    c.deliver();
    c.tick('n1');
    c.deliver();
    const committed = c.node('n1').status().commitIndex;
    expect(committed).toBe(21);
    expect(c.node('n1').status().leaderCommit).toBe(committed); // a leader: its own
    expect(c.node('n3').status()).toMatchObject({ leader: 'n1', commitIndex: 1, leaderCommit: 1 });

    // Back in touch, n3 takes one AppendEntries of 4 entries (maxEntriesPerMessage) and no more yet.
    c.heal();
    let appends = 0;
    for (let i = 0; i < 3 && appends === 0; i++) {
      c.tick('n1');
      c.deliver((m) => !(m.to === 'n3' && m.type === 'AppendEntries' && m.entries.length > 0 && ++appends > 1));
    }
    expect(appends).toBeGreaterThan(0);
    const s3 = c.node('n3').status();
    // Its own commitIndex stops at the end of its log, all of it applied: only leaderCommit says it is behind.
    expect(s3.commitIndex).toBeLessThan(committed);
    expect(s3.appliedIndex).toBe(s3.commitIndex);
    expect(s3.leaderCommit).toBe(committed);

    // A heartbeat carries min(commitIndex, matchIndex): it does not pull leaderCommit back.
    c.tick('n1');
    c.deliver((m) => !(m.to === 'n3' && m.type === 'AppendEntries' && m.entries.length > 0));
    expect(c.node('n3').status().leaderCommit).toBe(committed);

    for (let i = 0; i < 5; i++) {
      c.tick('n1');
      c.deliver();
    }
    expect(c.node('n3').status()).toMatchObject({ commitIndex: committed, appliedIndex: committed, leaderCommit: committed });

    // A new term's leader: leaderCommit is what that leader says, from then on.
    c.node('n1').transferLeadership('n2');
    c.process('n1');
    c.deliver();
    c.tick('n2');
    c.deliver();
    expect(c.node('n2').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(c.node('n3').status()).toMatchObject({ leader: 'n2', leaderCommit: c.node('n2').status().commitIndex });
    expect(c.node('n3').status().leaderCommit).toBeGreaterThan(committed); // n2's no-op of term 2

    // No leader known (cut off, n3 campaigns): no leaderCommit.
    c.isolate('n3');
    c.tick('n3', 30);
    expect(c.node('n3').status()).toMatchObject({ leader: null, leaderCommit: null });
  });

  it('restarts from persisted state and replays committed entries to the state machine', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'a', 'b');
    c.deliver();
    c.tick('n1');
    c.deliver();
    c.start('n2');
    expect(c.appliedData('n2')).toEqual(['a', 'b']);
    expect(c.node('n2').status().term).toBe(1);
  });
});

describe('Raft pre-vote and check-quorum', () => {
  it('pre-vote keeps a partitioned node from disrupting the leader when it rejoins', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.isolate('n3');
    for (let i = 0; i < 50; i++) {
      c.tickAll();
      c.deliver();
    }
    c.heal();
    for (let i = 0; i < 5; i++) {
      c.tickAll();
      c.deliver();
    }
    expect(c.leader()).toBe('n1');
    expect(c.node('n1').status().term).toBe(1);
    expect(c.node('n3').status().leader).toBe('n1');
  });

  it('without pre-vote the same rejoin forces a new term (what pre-vote prevents)', () => {
    const c = new TestCluster(['n1', 'n2', 'n3'], { preVote: false, checkQuorum: false });
    c.elect('n1');
    c.isolate('n3');
    for (let i = 0; i < 50; i++) {
      c.tickAll();
      c.deliver();
    }
    c.heal();
    for (let i = 0; i < 30; i++) {
      c.tickAll();
      c.deliver();
    }
    expect(c.node('n1').status().term).toBeGreaterThan(1);
  });

  it('voters in a leader lease ignore a candidate even when it is connected', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.tick('n3', 10); // n3's timer fires although the leader is alive (e.g. a long GC pause)
    c.deliver();
    expect(c.leader()).toBe('n1');
    expect(c.node('n1').status().term).toBe(1);
  });

  it('check-quorum: an isolated leader steps down after an election timeout and fails its reads', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.isolate('n1');
    c.node('n1').readIndex('r1');
    c.process('n1');
    c.tick('n1', 10); // the followers were active during the election: one more round is needed
    expect(c.node('n1').status().role).toBe('leader');
    c.tick('n1', 10);
    c.deliver();
    expect(c.node('n1').status().role).toBe('follower');
    expect(c.readStates.get('n1')).toEqual([]);
    expect(c.readFailures.get('n1')!.map((f) => f.ctx)).toEqual(['r1']);
    // The majority side elects a new leader.
    for (let i = 0; i < 30; i++) {
      c.tick('n2');
      c.tick('n3');
      c.deliver();
    }
    expect(['n2', 'n3']).toContain(c.leader());
  });
});

describe('Raft snapshots', () => {
  it('sends InstallSnapshot to a follower behind the first kept entry, which then catches up', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.isolate('n3');
    for (let i = 0; i < 20; i++) c.propose('n1', `v${i}`);
    c.deliver();
    c.tick('n1');
    c.deliver();
    const applied = c.node('n1').status().appliedIndex;
    const snap = c.node('n1').createSnapshot(applied, Buffer.from('state@' + applied));
    expect(c.node('n1').status().snapshotIndex).toBe(applied);
    expect(snap.lastIncludedTerm).toBe(1);
    c.propose('n1', 'after');
    c.heal();
    let installs = 0;
    for (let i = 0; i < 5; i++) {
      c.tick('n1');
      c.deliver((m) => {
        if (m.type === 'InstallSnapshot') installs++;
        return true;
      });
    }
    expect(installs).toBe(1);
    const p3 = c.persisted.get('n3')!;
    expect(p3.snapshot?.lastIncludedIndex).toBe(applied);
    expect(Buffer.from(p3.snapshot!.data).toString()).toBe('state@' + applied);
    expect(c.node('n3').status().commitIndex).toBe(c.node('n1').status().commitIndex);
    expect(c.appliedData('n3')).toEqual(['after']);
  });

  it('restarts from a snapshot plus the entries after it', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'a', 'b', 'c');
    c.deliver();
    c.tick('n1');
    c.deliver();
    const snap = c.node('n2').createSnapshot(3, Buffer.from('s'));
    const p = c.persisted.get('n2')!;
    p.snapshot = snap;
    p.entries = p.entries.filter((e) => e.index > 3);
    c.start('n2');
    expect(c.node('n2').status().snapshotIndex).toBe(3);
    expect(c.appliedData('n2')).toEqual(['c']);
  });
});

describe('Raft ReadIndex and leadership transfer', () => {
  it('answers a read with the commit index once a quorum confirmed the leadership', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'x');
    c.deliver();
    c.node('n1').readIndex('r1');
    c.process('n1');
    expect(c.readStates.get('n1')).toEqual([]);
    c.deliver();
    expect(c.readStates.get('n1')).toEqual([{ ctx: 'r1', index: 2 }]);
  });

  it('a follower asks its leader for the read index and serves at it (§6.4.1)', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'x');
    // n2 has the entry but not yet the news that it committed: its own commitIndex is behind.
    c.deliver((m) => !(m.type === 'AppendEntries' && m.to === 'n2' && m.entries.length === 0));
    c.propose('n1', 'y');
    c.deliver((m) => m.to !== 'n2');
    expect(c.node('n1').status().commitIndex).toBe(3);
    expect(c.node('n2').status().commitIndex).toBeLessThan(3);
    c.node('n2').readIndex('r2');
    c.process('n2');
    expect(c.queue.some((m) => m.type === 'ReadIndexRequest' && m.from === 'n2' && m.to === 'n1')).toBe(true);
    c.deliver();
    // The leader's index, confirmed by a quorum, not the follower's own.
    expect(c.readStates.get('n2')).toEqual([{ ctx: 'r2', index: 3 }]);
    expect(c.readFailures.get('n2')).toEqual([]);
  });

  it("a follower's read fails when its leader changes before the answer, or none comes", () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'x');
    c.deliver();
    c.node('n2').readIndex('lost');
    c.process('n2');
    c.deliver((m) => m.type !== 'ReadIndexResponse');
    c.queue = c.queue.filter((m) => m.type !== 'ReadIndexResponse');
    c.tick('n2', 9);
    expect(c.readFailures.get('n2')).toEqual([]);
    c.tick('n2', 1); // an election timeout without an answer
    expect(c.readFailures.get('n2')).toEqual([{ ctx: 'lost', leaderHint: 'n1' }]);

    c.node('n3').readIndex('moved');
    c.process('n3');
    c.queue = c.queue.filter((m) => m.type !== 'ReadIndexRequest'); // still on its way to n1...
    c.node('n1').transferLeadership('n2');
    c.process('n1');
    c.deliver();
    expect(c.leader()).toBe('n2');
    expect(c.readFailures.get('n3')!.map((f) => f.ctx)).toEqual(['moved']); // when n2's campaign reached it
    // ...and an answer from the old leader arriving now is not taken.
    c.node('n3').step({ type: 'ReadIndexResponse', from: 'n1', to: 'n3', term: 1, ctx: 'moved', index: 2 });
    c.process('n3');
    expect(c.readStates.get('n3')).toEqual([]);
  });

  it('a node that is not a follower of a known leader cannot serve', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.node('n2').readIndex('nobody');
    c.process('n2');
    expect(c.readFailures.get('n2')).toEqual([{ ctx: 'nobody', leaderHint: null }]);
    // A ReadIndexRequest reaching a follower is refused (index null), not forwarded.
    c.elect('n1');
    c.node('n3').step({ type: 'ReadIndexRequest', from: 'n2', to: 'n3', term: c.node('n3').status().term, ctx: 'wrong' });
    c.process('n3');
    expect(c.queue.find((m) => m.type === 'ReadIndexResponse' && m.from === 'n3')).toMatchObject({ to: 'n2', ctx: 'wrong', index: null });
  });

  it('a new leader holds reads until its first entry of the term commits', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1', (m) => m.type === 'RequestVote' || m.type === 'RequestVoteResponse');
    expect(c.leader()).toBe('n1');
    c.node('n1').readIndex('early');
    c.process('n1');
    c.tick('n1');
    c.deliver((m) => m.type !== 'AppendEntries' || m.entries.length === 0);
    expect(c.readStates.get('n1')).toEqual([]);
    c.deliver();
    c.tick('n1');
    c.deliver();
    expect(c.readStates.get('n1')).toEqual([{ ctx: 'early', index: 1 }]);
  });

  it('transfers leadership to an up-to-date follower with TimeoutNow', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'a');
    c.deliver();
    c.node('n1').transferLeadership('n2');
    c.process('n1');
    c.deliver();
    expect(c.leader()).toBe('n2');
    expect(c.node('n2').status().term).toBe(2);
  });

  it('catches a lagging transferee up before TimeoutNow and refuses proposals meanwhile', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.cutLink('n1', 'n3');
    c.propose('n1', 'a', 'b');
    c.deliver();
    c.node('n1').transferLeadership('n3');
    c.process('n1');
    expect(c.propose('n1', 'c')).toMatchObject({ ok: false, reason: 'transferring' });
    c.heal();
    c.tick('n1');
    c.deliver();
    expect(c.leader()).toBe('n3');
    expect(
      c
        .node('n3')
        .logEntries()
        .some((e) => e.data && Buffer.from(e.data).toString() === 'b'),
    ).toBe(true);
  });
});

describe('Raft leader bookkeeping (issue 10)', () => {
  it('a late refusal at matchIndex does not pull matchIndex back (etcd: rejected <= match is stale)', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.propose('n1', 'a', 'b');
    c.deliver();
    const match = c.node('n1').status().progress.n2.matchIndex;
    expect(match).toBeGreaterThan(1);
    const term = c.node('n1').status().term;
    c.node('n1').step({
      type: 'AppendEntriesResponse',
      from: 'n2',
      to: 'n1',
      term,
      success: false,
      matchIndex: 0,
      rejectedIndex: match,
      conflictTerm: 0,
      conflictIndex: 1,
      readCtx: null,
    });
    expect(c.node('n1').status().progress.n2).toMatchObject({ matchIndex: match, state: 'replicate' });
  });

  it('repeated leadership transfers do not postpone the check-quorum step-down of a cut-off leader', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    c.isolate('n1');
    for (let i = 0; i < 40 && c.node('n1').status().role === 'leader'; i++) {
      c.node('n1').transferLeadership(i % 2 === 0 ? 'n2' : 'n3');
      c.tick('n1');
    }
    expect(c.node('n1').status().role).toBe('follower');
  });
});

describe('Raft robustness', () => {
  it('ignores votes asked by non-members and messages addressed to others', () => {
    const c = new TestCluster(['n1', 'n2', 'n3']);
    const removed: RequestVote = { type: 'RequestVote', from: 'n9', to: 'n1', term: 99, preVote: false, lastLogIndex: 50, lastLogTerm: 98, transfer: false };
    c.node('n1').step(removed);
    c.node('n1').step({ ...removed, preVote: true });
    const bogus: AppendEntries = {
      type: 'AppendEntries',
      from: 'n2',
      to: 'n3',
      term: 99,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [],
      leaderCommit: 0,
      readCtx: null,
    };
    c.node('n1').step(bogus);
    expect(c.node('n1').status().term).toBe(0);
    expect(c.queue).toEqual([]);
  });
});
