import { UsageError } from '../cli';
import { parseChaosArgs } from './options';

describe('chaos options', () => {
  it('reads the documented command line, with the same defaults as before', () => {
    expect(parseChaosArgs(['--protocol', 'raft', '--clients', '8', '--duration', '60', '--seed', '1'])).toEqual({
      protocol: 'raft',
      clients: 8,
      duration: 60,
      seed: 1,
      canary: null,
      outDir: 'chaos-out/raft-seed1',
      keys: 6,
      durabilityEveryMs: 20,
      clientTimeoutMs: 8000,
      gatewayTimeoutMs: null,
    });
    const o = parseChaosArgs([
      '--protocol=pbft',
      '--seed',
      '11',
      '--gateway-timeout-ms',
      '300',
      '--canary',
      'stale-reads',
      '--durability-every-ms',
      '0',
      '--keys',
      '3',
    ]);
    expect(o).toMatchObject({ protocol: 'pbft', seed: 11, gatewayTimeoutMs: 300, clientTimeoutMs: 8000, canary: 'stale-reads', durabilityEveryMs: 0, keys: 3 });
    expect(o.outDir).toBe('chaos-out/pbft-seed11-stale-reads');
    expect(parseChaosArgs(['--gateway-timeout-ms', '6000', '--out', '/tmp/x'])).toMatchObject({ clientTimeoutMs: 9000, outDir: '/tmp/x' });
  });

  it('refuses what it cannot run', () => {
    for (const argv of [
      ['--protocol', 'paxos'],
      ['--clients', '0'],
      ['--canary', 'x'],
      ['--out', ''],
      ['--client-timeout-ms', '50'],
      ['--gateway-timeout-ms', '5'],
    ]) {
      expect(() => parseChaosArgs(argv)).toThrow(UsageError);
    }
  });
});
