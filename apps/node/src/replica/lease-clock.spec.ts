import { LeaseClock } from './lease-clock';

describe('LeaseClock', () => {
  let now = 0;
  const clock = (): LeaseClock => new LeaseClock(() => now);
  beforeEach(() => (now = 1000));

  it('a lease is due its TTL after the apply of its last renewal, not before', () => {
    const c = clock();
    c.observe({ op: 'lease-grant', id: 'a', ttlSeconds: 2, revision: 5 });
    now += 1999;
    expect(c.due()).toEqual([]);
    c.observe({ op: 'lease-keepalive', id: 'a', found: true, ttlSeconds: 2, revision: 9 });
    now += 1999;
    expect(c.due()).toEqual([]);
    expect(c.remainingMs('a')).toBe(1);
    now += 1;
    expect(c.due()).toEqual([{ id: 'a', renewedAt: 9 }]);
  });

  it('votes once, again only after a second without an answer; an expiry or revocation ends it', () => {
    const c = clock();
    c.observe({ op: 'lease-grant', id: 'a', ttlSeconds: 1, revision: 1 });
    c.observe({ op: 'lease-grant', id: 'b', ttlSeconds: 1, revision: 2 });
    now += 1000;
    expect(c.due().map((d) => d.id)).toEqual(['a', 'b']);
    now += 500;
    expect(c.due()).toEqual([]);
    now += 500;
    expect(c.due().map((d) => d.id)).toEqual(['a', 'b']);
    c.observe({ op: 'lease-expire', id: 'a', expired: true, deleted: [], revision: 3 });
    c.observe({ op: 'lease-revoke', id: 'b', found: true, deleted: [], revision: 4 });
    now += 5000;
    expect(c.due()).toEqual([]);
    expect(c.remainingMs('a')).toBeNull();
  });

  it('a keepalive of an unknown lease tracks nothing; restart gives every lease its full TTL from now', () => {
    const c = clock();
    c.observe({ op: 'lease-keepalive', id: 'x', found: false, ttlSeconds: 0, revision: 1 });
    expect(c.remainingMs('x')).toBeNull();
    c.observe({ op: 'lease-grant', id: 'a', ttlSeconds: 3, revision: 1 });
    now += 2900;
    c.restart([{ id: 'a', ttlSeconds: 3, renewedAt: 1 }]);
    expect(c.remainingMs('a')).toBe(3000);
    now += 2999;
    expect(c.due()).toEqual([]);
  });
});
