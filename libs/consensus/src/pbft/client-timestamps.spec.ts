import { batchDigest, signingPayload } from './codec';
import { PbftHarness } from './testing/harness';
import type { PbftFaults, PrePrepare } from './types';

/**
 * Issue 10's demonstration: two writes, then the primary (Byzantine) sends a correctly signed
 * PRE-PREPARE that carries the first request again. The client table (C&L §4.1) keeps every
 * correct replica from executing it a second time, whatever the application's own dedup does.
 */
function replayByPrimary(faults?: PbftFaults) {
  const h = new PbftHarness({ maxBatch: 1, faults });
  const first = h.request('client', 'old', 'k', 1);
  h.propose('r0', first);
  h.deliver();
  h.propose('r0', h.request('client', 'new', 'k', 1));
  h.deliver();
  const positions = () => ['r1', 'r2', 'r3'].map((id) => h.apps.get(id)!.lastPosition);
  const before = positions();
  const seq = h.replica('r1').status().lastExecuted + 1;
  const unsigned: PrePrepare = {
    type: 'PrePrepare',
    from: 'r0',
    to: null,
    view: 0,
    seq,
    digest: batchDigest([first]),
    requests: [first],
    sig: new Uint8Array(),
  };
  const pp = { ...unsigned, sig: h.keyring.cryptoFor('r0').sign(signingPayload(unsigned)) };
  for (const to of ['r1', 'r2', 'r3']) h.inject('r0', to, pp);
  h.deliver();
  return { before, after: positions() };
}

describe('PBFT client timestamps (issue 10)', () => {
  it('a primary re-proposing an executed request gets it executed nowhere', () => {
    const { before, after } = replayByPrimary();
    expect(after).toEqual(before);
  });

  it('canary: without the timestamp check the correct replicas execute it again', () => {
    const { before, after } = replayByPrimary({ skipTimestampCheck: true });
    expect(after.every((p, i) => p > before[i])).toBe(true);
  });
});
