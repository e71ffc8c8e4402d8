import { bodiesOf, framesFor, FrameCoalescer, MAX_BODIES_PER_FRAME } from './many';

describe('ManyBody framing', () => {
  it('sends one body as it is and more in frames of at most MAX_BODIES_PER_FRAME, in order', () => {
    expect(framesFor([])).toEqual([]);
    expect(framesFor([{ t: 'read', corr: 'a' }])).toEqual([{ t: 'read', corr: 'a' }]);
    const bodies = Array.from({ length: MAX_BODIES_PER_FRAME + 3 }, (_, i) => ({ t: 'read', corr: `c${i}` }));
    const frames = framesFor(bodies);
    expect(frames).toHaveLength(2);
    expect(frames.flatMap((f) => bodiesOf(f) ?? [])).toEqual(bodies);
  });

  it('unfolds a ManyBody and takes any other body alone, hostile ones included', () => {
    expect(bodiesOf({ t: 'many', bodies: [1, 'x', null] })).toEqual([1, 'x', null]);
    expect(bodiesOf({ t: 'read' })).toEqual([{ t: 'read' }]);
    expect(bodiesOf(null)).toEqual([null]);
    expect(bodiesOf('many')).toEqual(['many']);
  });

  it('refuses a ManyBody that is malformed, oversized or nested (no amplification, no recursion)', () => {
    expect(bodiesOf({ t: 'many' })).toBeNull();
    expect(bodiesOf({ t: 'many', bodies: 'x' })).toBeNull();
    expect(bodiesOf({ t: 'many', bodies: Array.from({ length: MAX_BODIES_PER_FRAME + 1 }, () => ({})) })).toBeNull();
    expect(bodiesOf({ t: 'many', bodies: [{ t: 'read' }, { t: 'many', bodies: [] }] })).toBeNull();
  });

  it('FrameCoalescer sends the bodies of one turn per endpoint in one pipeline', async () => {
    const sent: Array<[string, unknown]> = [];
    let batches = 0;
    const c = new FrameCoalescer({
      send: (to, body) => sent.push([to, body]),
      batch: (fn) => {
        batches++;
        fn();
      },
    });
    c.send('gw-1', { corr: 1 });
    c.send('gw-2', { corr: 2 });
    c.send('gw-1', { corr: 3 });
    expect(sent).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(batches).toBe(1);
    expect(sent).toEqual([
      ['gw-1', { t: 'many', bodies: [{ corr: 1 }, { corr: 3 }] }],
      ['gw-2', { corr: 2 }],
    ]);
  });
});
