import { AvailabilityProbe, type WriteSample } from './probe';

const failed = (start: number): WriteSample => ({ key: `k${start}`, value: 'v', start, end: start + 10, ok: false });

describe('AvailabilityProbe.falseReady', () => {
  it('judges a failed write by the readiness check sent last before it, not the one that finished last', () => {
    const probe = new AvailabilityProbe(() => 'http://unused', 'test');
    // Completion order: the check sent at 1100 (not ready) came back before a slow one sent at 1000 (ready).
    probe.ready.push({ at: 1100, ready: false }, { at: 1000, ready: true });
    probe.writes.push(failed(1150));
    expect(probe.falseReady([], 0)).toEqual([]);

    // The other way round the claim at 1150 is "ready", and the failed write contradicts it.
    const other = new AvailabilityProbe(() => 'http://unused', 'test');
    other.ready.push({ at: 1100, ready: true }, { at: 1000, ready: false });
    other.writes.push(failed(1150));
    expect(other.falseReady([], 0).map((w) => w.start)).toEqual([1150]);
  });

  it('ignores writes before any check, acknowledged writes, and failures within the grace after a fault', () => {
    const probe = new AvailabilityProbe(() => 'http://unused', 'test');
    probe.ready.push({ at: 1000, ready: true });
    probe.writes.push(failed(900), { ...failed(1200), ok: true }, failed(2000), failed(5000));
    expect(probe.falseReady([1900], 1500).map((w) => w.start)).toEqual([5000]);
  });
});
