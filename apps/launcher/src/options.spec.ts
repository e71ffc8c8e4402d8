import { HelpRequested, parseArgs, UsageError, USAGE } from './options';

function problems(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseArgs(argv, env);
  } catch (err) {
    if (err instanceof UsageError) return err.problems;
    throw err;
  }
  return [];
}

describe('launcher command line', () => {
  it('has the documented defaults', () => {
    expect(parseArgs([], {})).toEqual({
      protocol: 'raft',
      nodes: 3,
      spares: 0,
      fresh: false,
      port: 3000,
      host: '127.0.0.1',
      cluster: 'synod',
      dataDir: 'data',
      sharedRedis: false,
      redisUrl: null,
      appendfsync: 'always',
      nodeEnv: {},
      gatewayEnv: {},
    });
    expect(parseArgs(['--protocol', 'pbft'], {}).nodes).toBe(4);
  });

  it('passes --gateway-workers to the gateway: a count, or auto (the gateway resolves it from its cores)', () => {
    expect(parseArgs(['--gateway-workers', '3'], {}).gatewayEnv).toEqual({ GATEWAY_WORKERS: '3' });
    expect(parseArgs(['--gateway-workers', 'auto'], {}).gatewayEnv).toEqual({ GATEWAY_WORKERS: 'auto' });
    expect(() => parseArgs(['--gateway-workers', 'many'], {})).toThrow(/--gateway-workers/);
  });

  it('provisions spares for runtime membership changes, within the 31 ids', () => {
    expect(parseArgs(['--spares', '3'], {}).spares).toBe(3);
    expect(() => parseArgs(['--nodes', '30', '--spares', '2'], {})).toThrow(/--nodes plus --spares is at most 31/);
    expect(() => parseArgs(['--spares', 'x'], {})).toThrow(/--spares/);
    // PBFT too: the initial configuration is --nodes (3f+1); spares join through reconfiguration.
    expect(parseArgs(['--protocol', 'pbft', '--nodes', '4', '--spares', '3'], {})).toMatchObject({ protocol: 'pbft', nodes: 4, spares: 3 });
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    const o = parseArgs(
      [
        '--protocol=pbft',
        '--nodes',
        '7',
        '--fresh',
        '--port',
        '0',
        '--cluster',
        'c-1',
        '--data',
        '/tmp/d',
        '--shared-redis',
        '--appendfsync',
        'no',
        '--node-env',
        'TICK_MS=20',
        '--node-env',
        'X=a=b',
        '--gateway-env',
        'ADMIN_TOKEN=t',
        '--session-window',
        '20',
      ],
      {},
    );
    expect(o).toMatchObject({ protocol: 'pbft', nodes: 7, fresh: true, port: 0, cluster: 'c-1', dataDir: '/tmp/d', sharedRedis: true, appendfsync: 'no' });
    expect(o.nodeEnv).toEqual({ TICK_MS: '20', X: 'a=b', SESSION_WINDOW: '20' });
    expect(o.gatewayEnv).toEqual({ ADMIN_TOKEN: 't' });
  });

  it('reads PORT, CLUSTER, HOST and REDIS_URL, and lets flags override them', () => {
    const env = { PORT: '4000', CLUSTER: 'envc', HOST: '0.0.0.0', REDIS_URL: 'redis://:pw@127.0.0.1:6390/1' };
    expect(parseArgs([], env)).toMatchObject({ port: 4000, cluster: 'envc', host: '0.0.0.0', redisUrl: 'redis://:pw@127.0.0.1:6390/1' });
    expect(parseArgs(['--port', '5000', '--cluster', 'flag'], env)).toMatchObject({ port: 5000, cluster: 'flag' });
    // The flag replaces the variable, so a bad variable it replaces is no problem.
    expect(parseArgs(['--port', '5000'], { PORT: 'soon' }).port).toBe(5000);
  });

  it('asks for help on -h or --help, even next to a mistake', () => {
    for (const argv of [['-h'], ['--help'], ['--bogus', '--help'], ['--nodes', '99', '-h']]) {
      let err: unknown;
      try {
        parseArgs(argv, {});
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HelpRequested);
      expect((err as HelpRequested).usage).toBe(USAGE);
    }
    expect(USAGE).toContain('--protocol raft|pbft');
  });

  it('names every bad flag and variable at once, then the usage', () => {
    const found = problems(
      [
        '--protocol',
        'paxos',
        '--nodes',
        '40',
        '--port',
        '70000',
        '--cluster',
        'a:b',
        '--appendfsync',
        'sometimes',
        '--node-env',
        'novalue',
        '--session-window',
        '0',
      ],
      {
        HOST: 'a b',
        REDIS_URL: 'http://user:hunter2@x',
      },
    );
    expect(found).toEqual([
      expect.stringMatching(/^REDIS_URL must be a Redis URL: the scheme must be redis:\/\//),
      expect.stringMatching(/^HOST must be a host name/),
      '--protocol must be raft or pbft, got "paxos"',
      '--nodes must be an integer in [1, 31], got "40"',
      '--port must be an integer in [0, 65535], got "70000"',
      '--cluster must be 1-64 characters of [A-Za-z0-9_-], got "a:b"',
      '--appendfsync must be always, everysec or no, got "sometimes"',
      '--node-env must be KEY=VALUE with KEY a variable name',
      '--session-window must be an integer in [1, 100000], got "0"',
    ]);
    expect(found.join('\n')).not.toContain('hunter2');
    let err: unknown;
    try {
      parseArgs(['--nodes', '0'], {});
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toContain(USAGE);
  });

  it('checks PORT and CLUSTER from the environment with the same rules', () => {
    expect(problems([], { PORT: 'soon', CLUSTER: 'a b' })).toEqual([
      'PORT must be an integer in [0, 65535], got "soon"',
      'CLUSTER must be 1-64 characters of [A-Za-z0-9_-], got "a b"',
    ]);
  });

  it('refuses a PBFT size that is not 3f+1', () => {
    expect(problems(['--protocol', 'pbft', '--nodes', '5'])).toEqual(['PBFT needs n = 3f+1 replicas (4, 7, ...), --nodes is 5']);
    expect(parseArgs(['--protocol', 'pbft', '--nodes', '7'], {}).nodes).toBe(7);
  });

  it('says which argument it does not understand', () => {
    expect(problems(['--bogus'])).toEqual(['unknown argument --bogus']);
    expect(problems(['stray'])).toEqual(['unknown argument stray']);
    expect(problems(['--port'])).toEqual(['--port needs a value']);
    expect(problems(['--cluster', '--fresh'])).toEqual(['--cluster needs a value']);
    expect(problems(['--fresh=yes'])).toEqual(['--fresh takes no value']);
  });
});
