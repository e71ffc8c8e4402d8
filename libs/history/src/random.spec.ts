import { checkLinearizable } from './index';
import { corruptOneRead, registerHistory } from './testing/register-history';

describe('checkLinearizable on simulated atomic registers', () => {
  const seeds = [1, 2, 3, 4, 5, 6];

  it.each(seeds)('accepts a real register history with indeterminate and failed ops (seed %i)', (seed) => {
    const history = registerHistory({ seed, ops: 1500, keys: 4, clients: 6, infoRate: 0.05, failRate: 0.03 });
    const r = checkLinearizable(history);
    expect(r).toMatchObject({ linearizable: true, incomplete: false, violations: [], keys: 4 });
  });

  it.each(seeds)('reports one corrupted read on its key (seed %i)', (seed) => {
    const history = registerHistory({ seed, ops: 1500, keys: 4, clients: 6, infoRate: 0.05, failRate: 0.03 });
    const bad = corruptOneRead(history, seed);
    const r = checkLinearizable(history);
    expect(r.linearizable).toBe(false);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0].key).toBe(bad.key);
    expect(r.violations[0].ops).toContain(bad);
    expect(r.violations[0].explanation).toContain(`get #${bad.id}`);
  });

  it('checks 10k ops over 10 keys from 8 clients in seconds', () => {
    const history = registerHistory({ seed: 42, ops: 10_000, keys: 10, clients: 8, infoRate: 0.03, failRate: 0.02 });
    let started = performance.now();
    const valid = checkLinearizable(history);
    const validMs = performance.now() - started;
    expect(valid).toMatchObject({ linearizable: true, incomplete: false, keys: 10 });

    const bad = corruptOneRead(history, 42);
    started = performance.now();
    const broken = checkLinearizable(history);
    const brokenMs = performance.now() - started;
    expect(broken.linearizable).toBe(false);
    expect(broken.violations[0].ops).toContain(bad);

    console.log(`10k ops / 10 keys / 8 clients: linearizable in ${validMs.toFixed(0)} ms, violation found and shrunk in ${brokenMs.toFixed(0)} ms`);
    expect(validMs + brokenMs).toBeLessThan(10_000);
  });
});
