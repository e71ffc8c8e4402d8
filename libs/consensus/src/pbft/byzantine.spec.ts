import { BYZANTINE_BEHAVIORS, type ByzantineBehavior } from './byzantine';
import { PbftHarness } from './testing/harness';

const correct = ['r1', 'r2', 'r3'];

/** Runs `count` requests from two clients against a cluster with one Byzantine replica; the client retries at every replica. */
function run(behavior: ByzantineBehavior, byz: string, count = 6): PbftHarness {
  const h = new PbftHarness({ clients: ['alice', 'bob'], byzantine: { [byz]: behavior }, requestTimeoutTicks: 15, maxBatch: 2 });
  const ids = h.ids;
  const reqs = Array.from({ length: count }, (_, i) => h.request(i % 2 === 0 ? 'alice' : 'bob', `${behavior}-${i}`, 'x', 1));
  for (const r of reqs) h.propose('r0', r);
  h.deliver();
  h.tick(3);
  for (const r of reqs) for (const id of ids) h.propose(id, r);
  for (let i = 0; i < 400; i++) {
    const live = ids.filter((id) => id !== byz);
    if (live.every((id) => h.apps.get(id)!.value('x') === count)) break;
    h.tick();
  }
  return h;
}

describe('PBFT with one Byzantine replica (f=1)', () => {
  for (const behavior of BYZANTINE_BEHAVIORS) {
    for (const byz of ['r0', 'r2']) {
      it(`${behavior} at ${byz === 'r0' ? 'the primary' : 'a backup'}: correct replicas agree and finish`, () => {
        const h = run(behavior, byz);
        const live = h.ids.filter((id) => id !== byz);
        for (const id of live) {
          expect(h.apps.get(id)!.value('x')).toBe(6);
          expect(h.apps.get(id)!.doubleApplied()).toEqual([]);
        }
        // Same batch at every sequence number on every correct replica.
        const ref = h.executedDigests(live[0]);
        for (const id of live.slice(1)) {
          for (const [seq, d] of h.executedDigests(id)) if (ref.has(seq)) expect(d).toBe(ref.get(seq));
        }
        expect(h.apps.get(live[1])!.digest()).toBe(h.apps.get(live[0])!.digest());
      });
    }
  }

  it("an equivocating primary's own prepares are refused (only backups prepare)", () => {
    const h = run('equivocate', 'r0');
    const dropped = correct.map((id) => h.replica(id).status().dropped);
    expect(dropped.some((d) => (d['prepare-from-primary'] ?? 0) > 0)).toBe(true);
  });

  it('forged messages are counted as bad signatures', () => {
    const h = run('forge', 'r2');
    expect(h.replica('r1').status().dropped['bad-signature']).toBeGreaterThan(0);
  });

  it('canary: with the weak (> n/3) quorum an equivocating primary splits correct replicas', () => {
    const h = new PbftHarness({ clients: ['alice'], byzantine: { r0: 'equivocate' }, faults: { weakQuorum: true } });
    h.propose('r0', h.request('alice', 'w1', 'x', 1));
    h.propose('r0', h.request('alice', 'w2', 'x', 2));
    h.deliver();
    const d1 = h.executedDigests('r1').get(1);
    const d3 = h.executedDigests('r3').get(1);
    expect(d1).toBeDefined();
    expect(d3).toBeDefined();
    expect(d1).not.toBe(d3);
  });
});
