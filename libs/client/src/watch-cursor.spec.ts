import { WatchCursor } from './watch-cursor';

/** The resume point and the dedup rule, step by step, without a network. */
describe('WatchCursor', () => {
  it('the resume point is the revision before the latest event: that one may not be complete', () => {
    const c = new WatchCursor();
    expect(c.resumeAfter).toBeUndefined();
    expect(c.accept(5, 'a')).toBe(true);
    expect(c.resumeAfter).toBe(4);
    expect(c.accept(5, 'b')).toBe(true);
    expect(c.resumeAfter).toBe(4);
    expect(c.accept(9, 'a')).toBe(true); // 5 is complete, and nothing lies between 5 and 9
    expect(c.resumeAfter).toBe(8);
  });

  it('a progress report completes everything up to its revision; it never moves the point back', () => {
    const c = new WatchCursor(3);
    c.accept(5, 'a');
    c.progress(7);
    expect(c.resumeAfter).toBe(7);
    c.progress(6); // a gateway behind the one before
    expect(c.resumeAfter).toBe(7);
    expect(c.accept(5, 'b')).toBe(false); // at or below the point: sent before
  });

  it('after a reconnect, the part of the latest revision already delivered is dropped, the rest kept', () => {
    const c = new WatchCursor();
    expect([c.accept(5, 'a'), c.accept(5, 'b')]).toEqual([true, true]);
    c.reconnected();
    expect([c.accept(5, 'b'), c.accept(5, 'a'), c.accept(5, 'c'), c.accept(6, 'a')]).toEqual([false, false, true, true]);
  });

  it('one key written twice in one revision is two events, and a reconnect replays neither', () => {
    const c = new WatchCursor();
    expect([c.accept(5, 'k'), c.accept(5, 'k')]).toEqual([true, true]);
    c.reconnected();
    expect([c.accept(5, 'k'), c.accept(5, 'k'), c.accept(5, 'k')]).toEqual([false, false, true]);
  });

  it('without a reconnect, a second event of a key in the same revision is not taken for a replay', () => {
    const c = new WatchCursor();
    c.accept(5, 'k');
    c.accept(6, 'k');
    expect(c.accept(6, 'k')).toBe(true);
  });
});
