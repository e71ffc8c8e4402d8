import { HelpRequested, UsageError } from '../cli';
import { KILL_TARGETS } from './faults';
import { parseAvailabilityArgs } from './options';

describe('availability options', () => {
  it('reads --protocol, --trials and --targets, with every target by default', () => {
    expect(parseAvailabilityArgs([])).toEqual({ protocol: 'raft', trials: 5, targets: [...KILL_TARGETS] });
    expect(parseAvailabilityArgs(['--protocol=pbft', '--trials', '2', '--targets', 'gateway,redis-leader'])).toEqual({
      protocol: 'pbft',
      trials: 2,
      targets: ['gateway', 'redis-leader'],
    });
  });

  it('--help asks for the usage', () => {
    expect(() => parseAvailabilityArgs(['--trials', '1', '-h'])).toThrow(HelpRequested);
  });

  it('refuses what it cannot run, saying why in one line', () => {
    const reason = (argv: string[]): string => {
      try {
        parseAvailabilityArgs(argv);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(reason(['--protocol', 'paxos'])).toBe('--protocol must be raft or pbft, got "paxos"');
    expect(reason(['--trials', '0'])).toBe('--trials takes an integer >= 1, got "0"');
    expect(reason(['--trials', '1.5'])).toBe('--trials takes an integer >= 1, got "1.5"');
    expect(reason(['--targets', 'gateway,nope'])).toMatch(/^--targets: unknown nope \(known: replica-leader, /);
    expect(reason(['--targets', 'gateway,'])).toBe('--targets takes comma-separated names, got "gateway,"');
    expect(reason(['--bogus', '1'])).toBe('unknown option --bogus');
    for (const msg of ['--protocol', '--trials', '--targets', '--bogus'].map((f) => reason([f, 'x']))) expect(msg).not.toContain('\n');
  });
});
