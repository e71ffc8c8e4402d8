import { decodeReconfiguration, encodeReconfiguration, replicaSetProblem } from './reconfiguration';
import { PbftHarness } from './testing/harness';

const dec = new TextDecoder();

function tickUntil(h: PbftHarness, cond: () => boolean, max = 500): void {
  for (let i = 0; i <= max; i++) {
    if (cond()) return;
    h.tick();
  }
  throw new Error('condition not reached');
}

describe('PBFT reconfiguration', () => {
  it('names a replica set of 3f+1 distinct ids, f >= 1', () => {
    expect(decodeReconfiguration(encodeReconfiguration(['a', 'b', 'c', 'd']))).toEqual({ replicas: ['a', 'b', 'c', 'd'] });
    expect(replicaSetProblem(['a', 'b', 'c'])).toMatch(/3f\+1/);
    expect(replicaSetProblem(['a', 'a', 'b', 'c'])).toMatch(/duplicate/);
    expect('problem' in decodeReconfiguration(new TextEncoder().encode('synod-pbft-reconfigure/1\n{oops'))).toBe(true);
  });

  it('a reconfiguration not signed by the admin is refused, the same way on every replica, and counted', () => {
    const h = new PbftHarness({ clients: ['client', 'admin'], admin: 'admin' });
    h.propose('r0', h.requestOp('client', 'evil', encodeReconfiguration(['r3', 'r2', 'r1', 'r0'])));
    h.deliver();
    const replies = h.repliesFor('evil');
    expect(replies).toHaveLength(4);
    for (const r of replies) expect(dec.decode(r.result)).toBe('error: reconfiguration refused: not signed by the admin principal');
    for (const id of h.ids) {
      const s = h.replica(id).status();
      expect(s.reconfigurations).toEqual({ applied: 0, refused: 1 });
      expect(s.configuration.epoch).toBe(0);
      expect(s.nextConfiguration).toBeNull();
    }
  });

  it('an admin reconfiguration takes effect at the stable checkpoint boundary, with a view change among the new set', () => {
    const h = new PbftHarness({ clients: ['client', 'admin'], admin: 'admin', checkpointInterval: 4, logWindow: 8 });
    h.propose('r0', h.request('client', 'before'));
    h.deliver();
    // Same replicas, another order: the primary rule changes (view v's primary = replicas[v mod n]).
    h.propose('r0', h.requestOp('admin', 'reorder', encodeReconfiguration(['r1', 'r2', 'r3', 'r0'])));
    h.deliver();
    expect(dec.decode(h.repliesFor('reorder')[0].result)).toBe('ok: epoch 1: r1,r2,r3,r0 from sequence number 5');
    // The primary fills up to the boundary (seq 4) with null requests; checkpoint 4 is stable; the new set takes over.
    tickUntil(h, () => h.ids.every((id) => h.replica(id).status().configuration.epoch === 1 && !h.replica(id).status().viewChanging));
    for (const id of h.ids) {
      const s = h.replica(id).status();
      expect(s.configuration).toEqual({ epoch: 1, replicas: ['r1', 'r2', 'r3', 'r0'], n: 4, f: 1, since: 4 });
      expect(s.stableCheckpoint).toBeGreaterThanOrEqual(4);
      expect(s.view).toBeGreaterThanOrEqual(1);
      expect(s.primary).toBe(['r1', 'r2', 'r3', 'r0'][s.view % 4]);
    }
    h.propose(h.replica('r0').status().primary, h.request('client', 'after'));
    h.deliver();
    expect(h.repliesFor('after')).toHaveLength(4);
    // The configuration is in the checkpointed state: a restart comes back in it.
    h.crash('r2');
    h.restart('r2');
    expect(h.replica('r2').status().configuration.epoch).toBe(1);
  });
});
