import { isRaftMessage } from './validate-message';

const ae = { type: 'AppendEntries', from: 'n1', to: 'n2', term: 3, prevLogIndex: 4, prevLogTerm: 2, entries: [{ index: 5, term: 3, type: 'normal', data: Buffer.from('x') }], leaderCommit: 4, readCtx: null };

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
    ['a snapshot without data', { type: 'InstallSnapshot', from: 'n1', to: 'n2', term: 1, snapshot: { lastIncludedIndex: 1, lastIncludedTerm: 1, configuration: { voters: [], learners: [] } } }],
  ])('refuses %s', (_name, m) => {
    expect(isRaftMessage(m)).toBe(false);
  });
});
