import { NULL_DIGEST } from './codec';
import { PbftHarness } from './testing/harness';
import type { NewView, PrePrepare, ViewChange } from './types';

/** Ticks until `cond` holds (fails the test after `max`). Returns the ticks taken. */
function tickUntil(h: PbftHarness, cond: () => boolean, max = 500): number {
  for (let i = 0; i <= max; i++) {
    if (cond()) return i;
    h.tick();
  }
  throw new Error('condition not reached');
}

/** The VIEW-CHANGEs `id` broadcast (each once; retransmissions to one peer left out). */
const viewChangesFrom = (h: PbftHarness, id: string): ViewChange[] => [
  ...new Set(h.sent.filter((m) => m.from === id && m.msg.type === 'ViewChange' && m.msg.to === null).map((m) => m.msg as ViewChange)),
];

describe('PBFT view change', () => {
  it('replaces a silent primary and carries a prepared request into the new view at its sequence number', () => {
    const h = new PbftHarness({ requestTimeoutTicks: 20 });
    // r3 never gets the pre-prepare; commits are lost: r1 and r2 prepare, nobody commits.
    h.filter = (m) => m.msg.type !== 'Commit' && !(m.msg.type === 'PrePrepare' && m.to === 'r3');
    const req = h.request('client', 'a', 'x', 3);
    h.propose('r0', req);
    h.deliver();
    const pp = h.sent.find((m) => m.msg.type === 'PrePrepare')!.msg as PrePrepare;
    for (const id of ['r1', 'r2']) expect(h.sent.some((m) => m.from === id && m.msg.type === 'Commit')).toBe(true);
    expect(h.sent.some((m) => m.from === 'r3' && m.msg.type === 'Commit')).toBe(false);
    for (const id of h.ids) expect(h.replica(id).status().lastExecuted).toBe(0);

    // The primary falls silent; the client retries at every replica.
    h.crash('r0');
    h.filter = null;
    for (const id of ['r1', 'r2', 'r3']) h.propose(id, req);
    h.deliver();
    tickUntil(h, () => ['r1', 'r2', 'r3'].every((id) => h.replica(id).status().lastExecuted === 1));

    for (const id of ['r1', 'r2', 'r3']) {
      const s = h.replica(id).status();
      expect(s.view).toBe(1);
      expect(s.primary).toBe('r1');
      expect(s.viewChanging).toBe(false);
      expect(h.executed.get(id)!.find((b) => b.seq === 1)!.digest).toBe(pp.digest);
      expect(h.apps.get(id)!.value('x')).toBe(3);
    }
    const nv = h.sent.find((m) => m.msg.type === 'NewView')!.msg as NewView;
    expect(nv.from).toBe('r1');
    expect(nv.viewChanges.length).toBe(3);
    expect(nv.prePrepares.map((p) => [p.seq, p.digest])).toEqual([[1, pp.digest]]);
    // The view is on disk before the prepares of the new view go out.
    expect(h.storage.get('r2')!.load().hardState).toMatchObject({ view: 1, active: true });
  });

  it('fills a gap in the prepared sequence numbers with a null request', () => {
    // Two batches in flight, so that seq 2 is ordered while seq 1 is not executed.
    const h = new PbftHarness({ maxBatch: 1, maxInflightBatches: 2, requestTimeoutTicks: 20 });
    // Seq 1's pre-prepare reaches r1 only, so it never prepares; seq 2 prepares everywhere.
    h.filter = (m) => !(m.msg.type === 'PrePrepare' && m.msg.seq === 1 && m.to !== 'r1') && m.msg.type !== 'Commit';
    const g1 = h.request('client', 'g1', 'x', 1);
    const g2 = h.request('client', 'g2', 'x', 10);
    h.propose('r0', g1);
    h.propose('r0', g2);
    h.deliver();
    h.crash('r0');
    h.filter = null;
    for (const id of ['r1', 'r2', 'r3']) {
      h.propose(id, g1);
      h.propose(id, g2);
    }
    h.deliver();
    tickUntil(h, () => ['r1', 'r2', 'r3'].every((id) => h.replica(id).status().lastExecuted === 3));
    const nv = h.sent.find((m) => m.msg.type === 'NewView')!.msg as NewView;
    expect(nv.prePrepares.map((p) => p.seq)).toEqual([1, 2]);
    expect(nv.prePrepares[0].digest).toBe(NULL_DIGEST);
    expect(nv.prePrepares[0].requests).toEqual([]);
    for (const id of ['r1', 'r2', 'r3']) {
      const ex = h.executed.get(id)!;
      expect(ex.map((b) => [b.seq, b.requests.map((r) => r.id)])).toEqual([
        [1, []],
        [2, ['g2']],
        [3, ['g1']],
      ]);
      expect(h.apps.get(id)!.value('x')).toBe(11);
    }
  });

  it('a replica joins a view change on f+1 VIEW-CHANGEs for a higher view, before its own timer', () => {
    const h = new PbftHarness({ requestTimeoutTicks: 20 });
    // r0 receives nothing and sends nothing: only r1 and r2 get the request (and time out).
    h.filter = (m) => m.from !== 'r0' && m.to !== 'r0';
    const req = h.request('client', 'j');
    h.propose('r1', req);
    h.propose('r2', req);
    h.deliver();
    tickUntil(h, () => viewChangesFrom(h, 'r1').length > 0 && viewChangesFrom(h, 'r2').length > 0);
    h.deliver();
    // r3 never saw the request, so it has no timer running, yet it joins view 1.
    expect(h.replica('r3').status().pendingRequests).toBe(0);
    expect(viewChangesFrom(h, 'r3').map((v) => v.view)).toEqual([1]);
    tickUntil(h, () => ['r1', 'r2', 'r3'].every((id) => h.replica(id).status().lastExecuted === 1));
    expect(h.replica('r3').status().view).toBe(1);
  });

  it('one VIEW-CHANGE (f of them) is not enough to join', () => {
    const h = new PbftHarness({ requestTimeoutTicks: 20 });
    h.filter = (m) => m.from !== 'r0' && m.to !== 'r0';
    h.propose('r1', h.request('client', 'solo'));
    h.deliver();
    tickUntil(h, () => viewChangesFrom(h, 'r1').length > 0);
    h.tick(3);
    expect(viewChangesFrom(h, 'r2')).toEqual([]);
    expect(h.replica('r2').status().view).toBe(0);
    expect(h.replica('r1').status().viewChanging).toBe(true);
  });

  it('doubles the view-change timeout for each successive failed view', () => {
    const h = new PbftHarness({ requestTimeoutTicks: 20, statusTicks: 100 });
    h.crash('r0');
    // The primaries of views 1 and 2 never get their NEW-VIEW out; r3's (view 3) does.
    h.filter = (m) => !(m.msg.type === 'NewView' && (m.from === 'r1' || m.from === 'r2'));
    const req = h.request('client', 'd');
    for (const id of ['r1', 'r2', 'r3']) h.propose(id, req);
    h.deliver();
    const firstVc = new Map<number, number>();
    let t = 0;
    while (t < 400 && h.replica('r3').status().lastExecuted === 0) {
      h.tick();
      t++;
      for (const vc of viewChangesFrom(h, 'r3')) if (!firstVc.has(vc.view)) firstVc.set(vc.view, t);
    }
    expect(h.replica('r3').status().lastExecuted).toBe(1);
    expect([...firstVc.keys()]).toEqual([1, 2, 3]);
    const first = firstVc.get(2)! - firstVc.get(1)!;
    const second = firstVc.get(3)! - firstVc.get(2)!;
    expect(first).toBe(20);
    expect(second).toBe(40);
    expect(h.replica('r3').status().view).toBe(3);
  });

  it('a replica revived in the middle of a view change resends its VIEW-CHANGE', () => {
    const h = new PbftHarness({ requestTimeoutTicks: 20 });
    h.filter = (m) => m.from !== 'r0' && m.to !== 'r0';
    h.propose('r1', h.request('client', 'v'));
    h.deliver();
    tickUntil(h, () => h.replica('r1').status().viewChanging);
    expect(h.storage.get('r1')!.load().hardState).toMatchObject({ view: 1, active: false });
    const before = viewChangesFrom(h, 'r1').length;
    h.crash('r1');
    h.restart('r1');
    expect(h.replica('r1').status()).toMatchObject({ view: 1, viewChanging: true });
    expect(viewChangesFrom(h, 'r1').length).toBe(before + 1);
  });

  it('a replica that missed the NEW-VIEW learns it from the status exchange', () => {
    const h = new PbftHarness({ requestTimeoutTicks: 20 });
    h.crash('r0');
    // r3 loses the NEW-VIEW the first time round.
    let lose = true;
    h.filter = (m) => !(lose && m.msg.type === 'NewView' && m.to === 'r3');
    const req = h.request('client', 'n');
    for (const id of ['r1', 'r2', 'r3']) h.propose(id, req);
    h.deliver();
    tickUntil(h, () => h.sent.some((m) => m.msg.type === 'NewView'));
    lose = false;
    tickUntil(h, () => ['r1', 'r2', 'r3'].every((id) => h.replica(id).status().lastExecuted === 1));
    expect(h.replica('r3').status()).toMatchObject({ view: 1, viewChanging: false });
  });
});
