import { choiceFlag, HelpRequested, intFlag, numberFlag, parseFlags, UsageError } from './cli';

describe('tool command lines', () => {
  it('takes --flag value and --flag=value; the last one given wins', () => {
    expect(parseFlags(['--seeds', '20', '--from=5', '--from', '6'], ['seeds', 'from'])).toEqual({ seeds: '20', from: '6' });
  });

  it('--help and -h ask for the usage', () => {
    expect(() => parseFlags(['--seeds', '1', '--help'], ['seeds'])).toThrow(HelpRequested);
    expect(() => parseFlags(['-h'], ['seeds'])).toThrow(HelpRequested);
  });

  it('says in one line what is wrong with a command line', () => {
    const reason = (argv: string[]): string => {
      try {
        parseFlags(argv, ['seeds']);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(reason(['--bogus', '1'])).toBe('unknown option --bogus');
    expect(reason(['-x'])).toBe('unknown option -x');
    expect(reason(['--seeds'])).toBe('--seeds needs a value');
    expect(reason(['--seeds', '--help'])).toBe('--seeds needs a value');
    expect(reason(['--help=yes'])).toBe('--help takes no value');
    expect(reason(['raft'])).toBe('unexpected argument raft (every option is --name value)');
  });

  it('checks numbers and choices', () => {
    const v = { n: '12', f: '2.5', bad: 'x', neg: '-1', p: 'pbft' };
    expect(intFlag(v, 'n', 0)).toBe(12);
    expect(intFlag(v, 'missing', 7)).toBe(7);
    expect(() => intFlag(v, 'f', 0)).toThrow('--f takes an integer >= 0, got "2.5"');
    expect(() => intFlag(v, 'n', 0, 1, 10)).toThrow('--n takes an integer from 1 to 10, got "12"');
    expect(numberFlag(v, 'f', 0)).toBe(2.5);
    expect(() => numberFlag(v, 'neg', 0)).toThrow(UsageError);
    expect(() => numberFlag(v, 'bad', 0)).toThrow(UsageError);
    expect(choiceFlag(v, 'p', ['raft', 'pbft'], 'raft')).toBe('pbft');
    expect(() => choiceFlag(v, 'bad', ['raft', 'pbft', 'both'], 'raft')).toThrow('--bad must be raft, pbft or both, got "x"');
  });
});
