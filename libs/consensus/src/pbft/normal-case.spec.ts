import { ReplyQuorum, verifyReply } from './client';
import { PbftHarness } from './testing/harness';
import type { PrePrepare } from './types';

const dec = new TextDecoder();

function acceptedResult(h: PbftHarness, rid: string): string | null {
  const quorum = new ReplyQuorum(h.ids, 'client', (r) => verifyReply(h.keyring.cryptoFor('client'), r));
  for (const r of h.repliesFor(rid)) {
    const a = quorum.add(r);
    if (a !== null) return dec.decode(a.result);
  }
  return null;
}

describe('PBFT normal case', () => {
  it('orders, executes and replies with f=1 (4 replicas)', () => {
    const h = new PbftHarness({ n: 4 });
    h.propose('r0', h.request('client', 'a', 'x', 5));
    h.deliver();
    for (const id of h.ids) {
      expect(h.apps.get(id)!.value('x')).toBe(5);
      expect(h.replica(id).status().lastExecuted).toBe(1);
    }
    // One reply per replica, all matching; the client accepts on f+1.
    expect(
      h
        .repliesFor('a')
        .map((r) => r.from)
        .sort(),
    ).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(acceptedResult(h, 'a')).toBe('x=5@1');
  });

  it('orders, executes and replies with f=2 (7 replicas)', () => {
    const h = new PbftHarness({ n: 7 });
    for (let i = 0; i < 3; i++) h.propose('r0', h.request('client', `q${i}`, 'x', 1));
    h.deliver();
    for (const id of h.ids) expect(h.apps.get(id)!.value('x')).toBe(3);
    expect(acceptedResult(h, 'q2')).toBe('x=3@3');
  });

  it('does not commit with only 2f+1 - 1 replicas reachable (f=2 needs 5 of 7)', () => {
    const h = new PbftHarness({ n: 7 });
    h.crash('r5');
    h.crash('r6');
    h.crash('r4');
    h.propose('r0', h.request('client', 'a'));
    h.deliver();
    for (const id of ['r0', 'r1', 'r2', 'r3']) expect(h.replica(id).status().lastExecuted).toBe(0);
    h.restart('r4');
    h.tick(12); // status messages let r4 catch up on what it missed
    for (const id of ['r0', 'r1', 'r2', 'r3', 'r4']) expect(h.replica(id).status().lastExecuted).toBe(1);
  });

  it('a backup forwards a request to the primary', () => {
    const h = new PbftHarness();
    h.propose('r2', h.request('client', 'a'));
    h.deliver();
    expect(h.sent.some((m) => m.msg.type === 'Forward' && m.from === 'r2' && m.to === 'r0')).toBe(true);
    for (const id of h.ids) expect(h.replica(id).status().lastExecuted).toBe(1);
  });

  it('executes strictly in sequence order even when later sequence numbers commit first', () => {
    const h = new PbftHarness({ maxBatch: 1 });
    // Hold back everything about seq 1 until seq 2 has committed everywhere.
    let hold = true;
    h.filter = (m) => !(hold && 'seq' in m.msg && m.msg.seq === 1 && m.msg.type !== 'Checkpoint');
    h.propose('r0', h.request('client', 'first', 'x', 1));
    h.propose('r0', h.request('client', 'second', 'x', 10));
    h.deliver();
    expect(h.replica('r1').status().lastExecuted).toBe(0);
    expect(h.apps.get('r1')!.value('x')).toBe(0);
    hold = false;
    h.tick(6); // retransmission after the losses
    for (const id of h.ids) {
      expect(h.executed.get(id)!.map((b) => b.seq)).toEqual([1, 2]);
      expect(h.apps.get(id)!.value('x')).toBe(11);
    }
    expect(acceptedResult(h, 'first')).toBe('x=1@1');
    expect(acceptedResult(h, 'second')).toBe('x=11@2');
  });

  it('batches up to maxBatch requests per sequence number, waiting at most batchTicks', () => {
    const h = new PbftHarness({ maxBatch: 3, batchTicks: 4 });
    for (let i = 0; i < 4; i++) h.replica('r0').propose(h.request('client', `b${i}`));
    h.collect('r0');
    h.deliver();
    // A full batch goes at once; the fourth request waits for the batch delay.
    expect(h.executed.get('r1')!.map((b) => b.requests.length)).toEqual([3]);
    h.tick(4);
    expect(h.executed.get('r1')!.map((b) => b.requests.length)).toEqual([3, 1]);
    const pps = h.sent.filter((m) => m.msg.type === 'PrePrepare' && m.to === 'r1').map((m) => m.msg as PrePrepare);
    expect(pps.map((p) => p.seq)).toEqual([1, 2]);
  });

  it('a retried request id is executed once and answered with the first result', () => {
    const h = new PbftHarness();
    const req = h.request('client', 'same', 'x', 7);
    h.propose('r0', req);
    h.deliver();
    h.replies.length = 0;
    h.propose('r0', req);
    h.propose('r1', req);
    h.deliver();
    for (const id of h.ids) {
      expect(h.apps.get(id)!.value('x')).toBe(7);
      expect(h.apps.get(id)!.effectCount('same')).toBe(1);
      expect(h.replica(id).status().lastExecuted).toBe(1);
    }
    // The cached replies are sent again.
    expect(h.repliesFor('same').length).toBeGreaterThanOrEqual(2);
    expect(acceptedResult(h, 'same')).toBe('x=7@1');
  });

  it('replays the persisted log on restart and continues', () => {
    const h = new PbftHarness({ checkpointInterval: 4, logWindow: 8 });
    for (let i = 0; i < 6; i++) h.propose('r0', h.request('client', `p${i}`));
    h.deliver();
    const digest = h.apps.get('r2')!.digest();
    const executed = h.replica('r2').status().lastExecuted;
    expect(h.apps.get('r2')!.value('k')).toBe(6); // all six ran (in fewer batches: the primary's pipeline holds 2)
    h.crash('r2');
    h.restart('r2');
    expect(h.replica('r2').status().lastExecuted).toBe(executed);
    expect(h.apps.get('r2')!.digest()).toBe(digest);
    h.propose('r0', h.request('client', 'after'));
    h.deliver();
    expect(h.replica('r2').status().lastExecuted).toBe(executed + 1);
    expect(h.apps.get('r2')!.value('k')).toBe(7);
  });
});
