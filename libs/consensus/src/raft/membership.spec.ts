import { withMutants } from '../mutants';
import { changedConfiguration, decodeConfiguration, encodeConfiguration, votersChanged } from './configuration';
import { TestCluster } from './testing/cluster';

/** A 3-voter cluster led by n1, with its no-op committed everywhere. */
function led(ids = ['n1', 'n2', 'n3']): TestCluster {
  const c = new TestCluster(ids);
  c.elect('n1');
  c.tickAll();
  c.deliver();
  return c;
}

/** Heartbeats until the cluster is quiet and everyone knows the commit index. */
function settle(c: TestCluster, rounds = 3): void {
  for (let i = 0; i < rounds; i++) {
    c.tick(c.leader() ?? c.ids[0]);
    c.deliver();
  }
}

describe('membership changes: configuration values', () => {
  it('applies single steps and refuses what cannot apply', () => {
    const conf = { voters: ['a', 'b', 'c'], learners: ['d'] };
    expect(changedConfiguration(conf, [{ type: 'add-learner', id: 'e' }])).toEqual({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] });
    expect(changedConfiguration(conf, [{ type: 'promote', id: 'd' }])).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    expect(changedConfiguration(conf, [{ type: 'demote', id: 'a' }])).toEqual({ voters: ['b', 'c'], learners: ['d', 'a'] });
    expect(changedConfiguration(conf, [{ type: 'remove', id: 'd' }])).toEqual({ voters: ['a', 'b', 'c'], learners: [], retired: ['d'] });
    // A removed id is never added again: a wiped machine under it would answer for the old server.
    const removed = changedConfiguration(conf, [{ type: 'remove', id: 'd' }]) as typeof conf;
    expect(changedConfiguration(removed, [{ type: 'add-learner', id: 'd' }])).toBe('retired-member');
    expect(decodeConfiguration(encodeConfiguration(removed))).toEqual(removed);
    expect(decodeConfiguration(encodeConfiguration(conf))).toEqual(conf);
    expect(changedConfiguration(conf, [{ type: 'add-learner', id: 'a' }])).toBe('already-member');
    expect(changedConfiguration(conf, [{ type: 'promote', id: 'a' }])).toBe('not-a-learner');
    expect(changedConfiguration(conf, [{ type: 'promote', id: 'z' }])).toBe('unknown-member');
    expect(changedConfiguration(conf, [{ type: 'demote', id: 'd' }])).toBe('not-a-voter');
    expect(changedConfiguration({ voters: ['a'], learners: [] }, [{ type: 'remove', id: 'a' }])).toBe('last-voter');
    expect(votersChanged(conf, { voters: ['a', 'b', 'c', 'd', 'e'], learners: [] })).toBe(2);
  });

  it('encodes the whole configuration and refuses bytes that are not one', () => {
    const conf = { voters: ['n1', 'n2'], learners: ['n3'] };
    expect(decodeConfiguration(encodeConfiguration(conf))).toEqual(conf);
    expect(decodeConfiguration(Buffer.from('{"voters":[1]}'))).toBeNull();
    expect(decodeConfiguration(Buffer.from('not json'))).toBeNull();
    expect(decodeConfiguration(null)).toBeNull();
  });
});

describe('membership changes in the core', () => {
  it('a learner receives the log but neither votes nor counts towards commit', () => {
    const c = led();
    c.propose('n1', 'before');
    c.deliver();
    c.join('n4');
    const r = c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n4' }]);
    expect(r).toMatchObject({ ok: true, configuration: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } });
    settle(c);
    expect(c.appliedData('n4')).toEqual(['before']);
    expect(c.node('n4').status().configuration).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });

    // With n2 and n3 cut off, n1 + the learner n4 are no majority: nothing commits.
    c.cutLink('n1', 'n2');
    c.cutLink('n1', 'n3');
    const commit = c.node('n1').status().commitIndex;
    c.propose('n1', 'x');
    settle(c);
    expect(c.node('n1').status().commitIndex).toBe(commit);
    expect(c.node('n4').status().lastIndex).toBe(commit + 1);
    // A learner never campaigns, however long it hears nothing.
    c.isolate('n4');
    c.tick('n4', 100);
    expect(c.node('n4').status().role).toBe('follower');
    expect(c.node('n4').status().term).toBe(1);
  });

  it('a server that knows no configuration (joining, or a wiped machine) grants no vote', () => {
    // Its id may be a voter in configurations stale servers hold: a blank vote must not count for them.
    for (const mutant of [false, true]) {
      const c = new TestCluster(['n1', 'n2', 'n3']);
      const joiner = c.join('n4');
      const ask = () => joiner.step({ type: 'RequestVote', from: 'n2', to: 'n4', term: 7, lastLogIndex: 9, lastLogTerm: 3, preVote: false, transfer: false });
      if (mutant) withMutants(['raft.vote.joiner-votes'], ask);
      else ask();
      const answers = joiner.ready().messages.filter((m) => m.type === 'RequestVoteResponse');
      expect(answers.map((m) => (m as { voteGranted: boolean }).voteGranted)).toEqual([mutant]);
    }
  });

  it('refuses to add a removed id again, unless the mutant allows it', () => {
    const c = led();
    expect(c.node('n1').proposeConfChange([{ type: 'remove', id: 'n3' }]).ok).toBe(true);
    settle(c);
    c.propose('n1', 'x');
    settle(c);
    expect(c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n3' }])).toMatchObject({ ok: false, reason: 'retired-member' });
    expect(withMutants(['raft.conf.allow-retired-id'], () => c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n3' }]))).toMatchObject({ ok: true });
  });

  it('promotes a learner only once it has caught up, then counts it', () => {
    const c = led();
    c.join('n4');
    c.isolate('n4');
    expect(c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n4' }]).ok).toBe(true);
    settle(c);
    for (let i = 0; i < 100; i++) c.propose('n1', `v${i}`);
    settle(c);
    expect(c.node('n1').proposeConfChange([{ type: 'promote', id: 'n4' }])).toMatchObject({ ok: false, reason: 'learner-behind' });
    c.heal();
    settle(c, 5);
    expect(c.node('n1').proposeConfChange([{ type: 'promote', id: 'n4' }])).toMatchObject({ ok: true });
    settle(c);
    for (const id of c.ids) expect(c.node(id).status().configuration).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    // Four voters: n1 + n2 are not a majority any more (3 of 4 are needed).
    c.cutLink('n1', 'n3');
    c.cutLink('n1', 'n4');
    const commit = c.node('n1').status().commitIndex;
    c.propose('n1', 'y');
    settle(c);
    expect(c.node('n1').status().commitIndex).toBe(commit);
  });

  it('keeps one change in flight, and none before the leader committed in its term', () => {
    const c = led();
    c.join('n4');
    c.join('n5');
    expect(c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n4' }]).ok).toBe(true);
    expect(c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n5' }])).toMatchObject({ ok: false, reason: 'change-in-flight' });
    settle(c);
    expect(c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n5' }]).ok).toBe(true);
    settle(c);

    // A new leader refuses until its no-op commits.
    c.node('n1').transferLeadership('n2');
    c.process('n1');
    c.deliver((m) => m.type !== 'AppendEntriesResponse');
    expect(c.node('n2').status().role).toBe('leader');
    expect(c.node('n2').proposeConfChange([{ type: 'promote', id: 'n4' }])).toMatchObject({ ok: false, reason: 'leader-not-ready' });
    expect(c.node('n3').proposeConfChange([{ type: 'promote', id: 'n4' }])).toMatchObject({ ok: false, reason: 'not-leader', leaderHint: 'n2' });
  });

  it('refuses to move two voters at once (no joint consensus), unless the canary mutant allows it', () => {
    const c = led();
    c.join('n4');
    c.join('n5');
    c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n4' }]);
    settle(c);
    c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n5' }]);
    settle(c);
    const both = [
      { type: 'promote', id: 'n4' },
      { type: 'promote', id: 'n5' },
    ] as const;
    expect(c.node('n1').proposeConfChange([...both])).toMatchObject({ ok: false, reason: 'too-many-voters-changed' });
    withMutants(['raft.conf.many-voters-at-once'], () => expect(c.node('n1').proposeConfChange([...both]).ok).toBe(true));
  });

  it('a removed leader keeps replicating until its removal commits, then steps down and hands off', () => {
    const c = led();
    c.propose('n1', 'a');
    settle(c);
    expect(c.node('n1').proposeConfChange([{ type: 'remove', id: 'n1' }]).ok).toBe(true);
    settle(c);
    expect(c.node('n1').status().role).toBe('follower');
    // The most up-to-date voter got TimeoutNow and won at once.
    const leader = c.leader();
    expect(leader === 'n2' || leader === 'n3').toBe(true);
    for (const id of ['n2', 'n3']) expect(c.node(id).status().configuration).toEqual({ voters: ['n2', 'n3'], learners: [], retired: ['n1'] });
    expect(c.propose(leader!, 'b').ok).toBe(true);
    settle(c);
    expect(c.appliedData('n2')).toEqual(['a', 'b']);
    // The removed server never campaigns again, and its old-term noise is ignored.
    c.tick('n1', 100);
    expect(c.node('n1').status().role).toBe('follower');
    expect(c.leader()).toBe(leader);
  });

  it('a leader being removed does not count itself: the change needs a majority of the new configuration', () => {
    // n2 alone holds the change: one of the two new voters, plus n1 (which no longer counts).
    const commitWith = (): number => {
      const c = led();
      c.cutLink('n1', 'n3');
      expect(c.node('n1').proposeConfChange([{ type: 'remove', id: 'n1' }]).ok).toBe(true);
      settle(c);
      return c.node('n1').status().commitIndex;
    };
    expect(commitWith()).toBe(1);
    expect(withMutants(['raft.conf.removed-leader-counts-itself'], commitWith)).toBe(2);
  });

  it('a configuration entry that is truncated away gives the previous configuration back', () => {
    const c = led();
    c.join('n4');
    // n1 appends the change but reaches nobody, then loses leadership.
    c.isolate('n1');
    expect(c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n4' }]).ok).toBe(true);
    expect(c.node('n1').status().configuration.learners).toEqual(['n4']);
    c.tick('n3', 10); // past n3's check-quorum lease, so that it votes
    c.elect('n2');
    expect(c.node('n2').status().role).toBe('leader');
    c.propose('n2', 'z');
    c.heal();
    settle(c, 5);
    expect(c.node('n1').status().role).toBe('follower');
    expect(c.node('n1').status().configuration).toEqual({ voters: ['n1', 'n2', 'n3'], learners: [] });
    expect(c.node('n1').status().configIndex).toBe(0);
  });

  it('a snapshot carries the configuration as of its index, and a restart finds it again', () => {
    const c = led();
    c.join('n4');
    c.node('n1').proposeConfChange([{ type: 'add-learner', id: 'n4' }]);
    settle(c);
    c.propose('n1', 'after');
    settle(c);
    const n1 = c.node('n1');
    const applied = n1.status().appliedIndex;
    const snap = n1.createSnapshot(applied, Buffer.from('state'));
    expect(snap.configuration).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    c.persisted.get('n1')!.snapshot = snap;
    c.persisted.get('n1')!.entries = c.persisted.get('n1')!.entries.filter((e) => e.index > applied);
    c.start('n1');
    expect(c.node('n1').status().configuration).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    // And a restart from the log alone (no snapshot) reads the config entry.
    c.start('n2');
    expect(c.node('n2').status().configuration).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
  });

  it('demotes a voter to learner; it stops counting and stops campaigning', () => {
    const c = led();
    expect(c.node('n1').proposeConfChange([{ type: 'demote', id: 'n3' }]).ok).toBe(true);
    settle(c);
    expect(c.node('n3').status().configuration).toEqual({ voters: ['n1', 'n2'], learners: ['n3'] });
    c.isolate('n3');
    c.tick('n3', 100);
    expect(c.node('n3').status().role).toBe('follower');
  });
});
