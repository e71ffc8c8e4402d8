import type { KvResult } from '@app/consensus/kv';
import { LeaseClock } from './lease-clock';

describe('LeaseClock', () => {
  let now = 0;
  const clock = (): LeaseClock => new LeaseClock(() => now, 'n1/leases');
  /** As applied now: the result's own revision. */
  const applied = (c: LeaseClock, r: KvResult): void => c.observe(r, 'someone/1', r.revision);
  beforeEach(() => (now = 1000));

  it('a lease is due its TTL after the apply of its last renewal, not before', () => {
    const c = clock();
    applied(c, { op: 'lease-grant', id: 'a', ttlSeconds: 2, revision: 5 });
    now += 1999;
    expect(c.due()).toEqual([]);
    applied(c, { op: 'lease-keepalive', id: 'a', found: true, ttlSeconds: 2, revision: 9 });
    now += 1999;
    expect(c.due()).toEqual([]);
    expect(c.remainingMs('a')).toBe(1);
    now += 1;
    expect(c.due()).toEqual([{ id: 'a', renewedAt: 9 }]);
  });

  it('votes once, again only after a second without an answer; an expiry or revocation ends it', () => {
    const c = clock();
    applied(c, { op: 'lease-grant', id: 'a', ttlSeconds: 1, revision: 1 });
    applied(c, { op: 'lease-grant', id: 'b', ttlSeconds: 1, revision: 2 });
    now += 1000;
    expect(c.due().map((d) => d.id)).toEqual(['a', 'b']);
    now += 500;
    expect(c.due()).toEqual([]);
    now += 500;
    expect(c.due().map((d) => d.id)).toEqual(['a', 'b']);
    applied(c, { op: 'lease-expire', id: 'a', expired: true, deleted: [], revision: 3 });
    applied(c, { op: 'lease-revoke', id: 'b', found: true, deleted: [], revision: 4 });
    now += 5000;
    expect(c.due()).toEqual([]);
    expect(c.remainingMs('a')).toBeNull();
  });

  it('a keepalive of an unknown lease tracks nothing; restart gives every lease its full TTL from now', () => {
    const c = clock();
    applied(c, { op: 'lease-keepalive', id: 'x', found: false, ttlSeconds: 0, revision: 1 });
    expect(c.remainingMs('x')).toBeNull();
    applied(c, { op: 'lease-grant', id: 'a', ttlSeconds: 3, revision: 1 });
    now += 2900;
    c.restart([{ id: 'a', ttlSeconds: 3, renewedAt: 1 }]);
    expect(c.remainingMs('a')).toBe(3000);
    now += 2999;
    expect(c.due()).toEqual([]);
  });

  it('a retry’s remembered answer is no renewal: the deadline and the renewal voted about stay', () => {
    const c = clock();
    applied(c, { op: 'lease-grant', id: 'a', ttlSeconds: 1, revision: 1 });
    applied(c, { op: 'lease-keepalive', id: 'a', found: true, ttlSeconds: 1, revision: 7 });
    now += 900;
    // The first keepalive again (a gateway's retry), answered from the session at revision 9.
    c.observe({ op: 'lease-keepalive', id: 'a', found: true, ttlSeconds: 1, revision: 7 - 2 }, 'gw/3', 9);
    now += 100;
    expect(c.due()).toEqual([{ id: 'a', renewedAt: 7 }]);
    // A retried grant of a lease long gone does not bring it back.
    c.observe({ op: 'lease-grant', id: 'z', ttlSeconds: 1, revision: 2 }, 'gw/1', 12);
    expect(c.remainingMs('z')).toBeNull();
  });

  it('votes are requests of its own session, renamed when the replicas refuse it', () => {
    const c = clock();
    applied(c, { op: 'lease-grant', id: 'a', ttlSeconds: 1, revision: 1 });
    now += 1000;
    const [vote] = c.voteRequests('n1');
    expect(vote).toMatchObject({ cmd: { op: 'lease-expire', id: 'a', renewedAt: 1, voter: 'n1' } });
    expect(vote.id).toMatch(/^n1\/leases-[0-9a-f]{8}\/1$/);
    const before = c.client;
    c.observe({ op: 'refused', key: '', reason: 'session-expired', revision: 4 }, vote.id, 4);
    expect(c.client).not.toBe(before);
    now += 1000;
    expect(c.voteRequests('n1')[0].id).toBe(`${c.client}/1`);
  });
});
