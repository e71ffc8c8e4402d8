import { MAX_TERM } from '@app/consensus/raft';
import { isRaftMessage, raftMessageProblem } from './validate-message';

const ae = {
  type: 'AppendEntries',
  from: 'n1',
  to: 'n2',
  term: 3,
  prevLogIndex: 4,
  prevLogTerm: 2,
  entries: [{ index: 5, term: 3, type: 'normal', data: Buffer.from('x') }],
  leaderCommit: 4,
  readCtx: null,
};

describe('bus input validation for Raft messages', () => {
  it('accepts well-formed messages', () => {
    expect(isRaftMessage(ae)).toBe(true);
    expect(isRaftMessage({ type: 'RequestVote', from: 'n1', to: 'n2', term: 1, preVote: true, transfer: false, lastLogIndex: 0, lastLogTerm: 0 })).toBe(true);
    expect(isRaftMessage({ type: 'TimeoutNow', from: 'n1', to: 'n2', term: 1 })).toBe(true);
  });

  it.each([
    ['null', null],
    ['a string', 'AppendEntries'],
    ['an unknown type', { ...ae, type: 'Gossip' }],
    ['a negative term', { ...ae, term: -1 }],
    ['a fractional index', { ...ae, prevLogIndex: 1.5 }],
    ['entries that do not follow prevLogIndex', { ...ae, entries: [{ ...ae.entries[0], index: 9 }] }],
    ['an entry with string data', { ...ae, entries: [{ ...ae.entries[0], data: 'x' }] }],
    ['a missing readCtx', { ...ae, readCtx: undefined }],
    [
      'a snapshot without data',
      {
        type: 'InstallSnapshot',
        from: 'n1',
        to: 'n2',
        term: 1,
        snapshot: { lastIncludedIndex: 1, lastIncludedTerm: 1, configuration: { voters: [], learners: [] } },
      },
    ],
  ])('refuses %s', (_name, m) => {
    expect(isRaftMessage(m)).toBe(false);
  });

  describe('term ceiling (MAX_TERM)', () => {
    const rv = { type: 'RequestVote', from: 'n3', to: 'n1', term: 2, preVote: false, transfer: true, lastLogIndex: 0, lastLogTerm: 0 };
    const aer = {
      type: 'AppendEntriesResponse',
      from: 'n2',
      to: 'n1',
      term: 3,
      success: false,
      matchIndex: 0,
      rejectedIndex: 4,
      conflictTerm: 2,
      conflictIndex: 3,
      readCtx: null,
    };
    const snap = {
      type: 'InstallSnapshot',
      from: 'n1',
      to: 'n2',
      term: 3,
      snapshot: { lastIncludedIndex: 1, lastIncludedTerm: 1, configuration: { voters: [], learners: [] }, data: Buffer.from('s') },
    };
    const beyond = [MAX_TERM + 1, 2 ** 53, 2 ** 60, Number.MAX_VALUE];

    it('accepts every term field at exactly MAX_TERM (the last usable term)', () => {
      for (const m of [
        { ...rv, term: MAX_TERM, lastLogTerm: MAX_TERM },
        { ...ae, term: MAX_TERM, prevLogTerm: MAX_TERM, entries: [{ ...ae.entries[0], term: MAX_TERM }] },
        { ...aer, term: MAX_TERM, conflictTerm: MAX_TERM },
        { ...snap, term: MAX_TERM, snapshot: { ...snap.snapshot, lastIncludedTerm: MAX_TERM } },
      ]) {
        expect(raftMessageProblem(m)).toBeNull();
        expect(isRaftMessage(m)).toBe(true);
      }
    });

    it('takes a snapshot configuration with retired ids, and drops one whose retired ids are not ids', () => {
      const withRetired = (retired: unknown) => ({ ...snap, snapshot: { ...snap.snapshot, configuration: { voters: ['n1'], learners: [], retired } } });
      expect(isRaftMessage(withRetired(['n4']))).toBe(true);
      expect(isRaftMessage(withRetired(7))).toBe(false);
      expect(isRaftMessage(withRetired([null]))).toBe(false);
    });

    it.each(beyond)('drops the forged vote at %d as term-beyond-ceiling (not malformed: it is counted apart)', (term) => {
      expect(raftMessageProblem({ ...rv, term })).toBe('term-beyond-ceiling');
      expect(isRaftMessage({ ...rv, term })).toBe(false);
    });

    it.each([
      ['the envelope term', { ...ae, term: MAX_TERM + 1 }],
      ['RequestVote.lastLogTerm', { ...rv, lastLogTerm: MAX_TERM + 1 }],
      ['AppendEntries.prevLogTerm', { ...ae, prevLogTerm: MAX_TERM + 1 }],
      ['an entry term', { ...ae, entries: [{ ...ae.entries[0], term: 2 ** 53 }] }],
      ['AppendEntriesResponse.conflictTerm', { ...aer, conflictTerm: MAX_TERM + 1 }],
      ['InstallSnapshot lastIncludedTerm', { ...snap, snapshot: { ...snap.snapshot, lastIncludedTerm: MAX_TERM + 1 } }],
      ['TimeoutNow', { type: 'TimeoutNow', from: 'n1', to: 'n2', term: MAX_TERM + 1 }],
      ['RequestVoteResponse', { type: 'RequestVoteResponse', from: 'n1', to: 'n2', term: 2 ** 53, preVote: true, voteGranted: true }],
    ])('drops a message with %s above the ceiling', (_name, m) => {
      expect(raftMessageProblem(m)).toBe('term-beyond-ceiling');
    });

    it.each([
      ['an infinite term', { ...rv, term: Infinity }],
      ['a NaN term', { ...rv, term: NaN }],
      ['a fractional term', { ...rv, term: 2.5 }],
      ['a string term', { ...rv, term: String(MAX_TERM + 1) }],
    ])('%s is malformed', (_name, m) => {
      expect(raftMessageProblem(m)).toBe('malformed');
    });
  });
});
