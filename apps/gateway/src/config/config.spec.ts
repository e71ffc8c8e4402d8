import { ConfigError, loadConfig, parseSize, redact } from './config';

const BUS = { BUS_URL: 'redis://127.0.0.1:7000' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig(BUS)).toEqual(
      expect.objectContaining({
        port: 3000,
        cluster: 'synod',
        busUrl: 'redis://127.0.0.1:7000',
        queueUrl: 'redis://127.0.0.1:7000',
        nodes: ['n1', 'n2', 'n3'],
        protocol: 'raft',
        adminToken: null,
        requestTimeoutMs: 5000,
        attemptTimeoutMs: 1000,
        maxKeyBytes: 1024,
        maxValueBytes: 65536,
        bodyLimitBytes: 1024 * 1024,
      }),
    );
    expect(loadConfig({ ...BUS, PROTOCOL: 'pbft', KEYS_DIR: '/keys' }).nodes).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('requires a bus URL, taking REDIS_URL when BUS_URL is unset', () => {
    expect(problems({})).toEqual([expect.stringContaining('BUS_URL is required')]);
    expect(loadConfig({ REDIS_URL: 'redis://h:1' }).busUrl).toBe('redis://h:1');
    expect(loadConfig({ REDIS_URL: 'redis://h:1', BUS_URL: 'redis://b:2', QUEUE_URL: 'redis://q:3' })).toMatchObject({ busUrl: 'redis://b:2', queueUrl: 'redis://q:3' });
  });

  it('reads every variable', () => {
    const c = loadConfig({
      ...BUS,
      PORT: '8080',
      CLUSTER: 'c-1',
      NODES: ' a , b,c ',
      ADMIN_TOKEN: 's3cret',
      REQUEST_TIMEOUT_MS: '2000',
      ATTEMPT_TIMEOUT_MS: '300',
      MAX_KEY_BYTES: '10',
      MAX_VALUE_BYTES: '20',
      BODY_LIMIT: '512kb',
    });
    expect(c).toMatchObject({ port: 8080, cluster: 'c-1', nodes: ['a', 'b', 'c'], adminToken: 's3cret', requestTimeoutMs: 2000, attemptTimeoutMs: 300, maxKeyBytes: 10, maxValueBytes: 20, bodyLimitBytes: 512 * 1024 });
  });

  it('names every bad value at once', () => {
    const found = problems({
      BUS_URL: 'http://x',
      PORT: '70000',
      CLUSTER: 'a:b',
      NODES: 'n1,,n2',
      PROTOCOL: 'paxos',
      REQUEST_TIMEOUT_MS: 'soon',
      MAX_KEY_BYTES: '0',
      MAX_VALUE_BYTES: '-5',
      BODY_LIMIT: 'lots',
    });
    for (const name of ['BUS_URL', 'PORT', 'CLUSTER', 'NODES', 'PROTOCOL', 'REQUEST_TIMEOUT_MS', 'MAX_KEY_BYTES', 'MAX_VALUE_BYTES', 'BODY_LIMIT']) {
      expect(found.some((p) => p.startsWith(name))).toBe(true);
    }
    expect(found).toHaveLength(9);
  });

  it('refuses duplicate nodes and a PBFT cluster below 3f+1 = 4', () => {
    expect(problems({ ...BUS, NODES: 'n1,n2,n1' })).toEqual([expect.stringContaining('n1 more than once')]);
    expect(problems({ ...BUS, PROTOCOL: 'pbft', NODES: 'n1,n2,n3', KEYS_DIR: '/keys' })).toEqual([expect.stringContaining('at least 4')]);
    expect(problems({ ...BUS, PROTOCOL: 'pbft' })).toEqual([expect.stringContaining('KEYS_DIR')]);
  });

  it('never shows a password', () => {
    expect(problems({ BUS_URL: 'http://user:hunter2@host' })[0]).not.toContain('hunter2');
    expect(redact('redis://:hunter2@h:1/0')).toBe('redis://:***@h:1/0');
  });
});

describe('parseSize', () => {
  it.each([
    ['1mb', 1048576],
    ['512kb', 524288],
    ['100', 100],
    ['2 MB', 2097152],
    ['1.5kb', 1536],
    ['lots', null],
    ['', null],
    ['-1kb', null],
  ])('%p → %p', (s, n) => expect(parseSize(s)).toBe(n));
});
