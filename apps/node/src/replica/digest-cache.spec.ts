import { DigestCache } from './digest-cache';

function state(): { size: number; topicMessageCount: number; digest(): string; computed: number } {
  const s = { size: 10, topicMessageCount: 0, computed: 0, digest: () => `d${++s.computed}` };
  return s;
}

describe('DigestCache', () => {
  it('computes the digest once the applied index has stood still, once per index', () => {
    const c = new DigestCache();
    const s = state();
    expect(c.get(5, s, 0)).toBeUndefined();
    expect(c.get(5, s, 100)).toBeUndefined();
    expect(c.get(5, s, 400)).toBe('d1');
    expect(c.get(5, s, 5000)).toBe('d1');
    expect(s.computed).toBe(1);
  });

  it('never computes it while the index keeps moving (under load it would be out of date at once)', () => {
    const c = new DigestCache();
    const s = state();
    for (let i = 0; i < 100; i++) expect(c.get(i, s, i * 1000)).toBeUndefined();
    expect(s.computed).toBe(0);
  });

  it('reports nothing for a state too large to hash cheaply', () => {
    const c = new DigestCache();
    const s = { ...state(), size: 1_000_000 };
    c.get(1, s, 0);
    expect(c.get(1, s, 10_000)).toBeUndefined();
  });
});
