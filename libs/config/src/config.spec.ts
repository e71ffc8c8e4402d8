import { ConfigError, loadGatewayConfig, loadLauncherEnv, loadNodeConfig, parseSize, pieces } from './index';

type Env = Record<string, string | undefined>;

function problems(load: (env: Env) => unknown, env: Env): string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const node = (env: Env) => loadNodeConfig({ NODE_ID: 'n1', STORAGE_URL: 'redis://s:1', KEYS_DIR: '/keys', ...env });
const gateway = (env: Env) => loadGatewayConfig({ QUEUE_URL: 'redis://q:1', KEYS_DIR: '/keys', ...env });

describe('the bus rules, the same for the replica and the gateway', () => {
  it.each([
    ['replica', node],
    ['gateway', gateway],
  ])('%s: BUS_URLS gives each node its home, sentinel URLs (with commas) included', (_name, load) => {
    const cfg = load({ NODES: 'n1,n2,n3', BUS_URLS: 'n1=redis://a:1 , n2=redis+sentinel://s1:26379,s2:26379/home2?sentinelPassword=x,n3=rediss://c:3/1' }) as {
      busRoutes: unknown;
    };
    expect(cfg.busRoutes).toEqual({ n1: 'redis://a:1', n2: 'redis+sentinel://s1:26379,s2:26379/home2?sentinelPassword=x', n3: 'rediss://c:3/1' });
  });

  it.each([
    ['replica', node],
    ['gateway', gateway],
  ])('%s: names a node without a home, a home without a node, both variables, and bad entries', (_name, load) => {
    expect(problems(load, { NODES: 'n1,n2,n3', BUS_URLS: 'n1=redis://a:1,n4=redis://d:4' })).toEqual([
      'BUS_URLS has no URL for n2, n3 (every node in NODES needs its home Redis)',
      'BUS_URLS names n4, not in NODES (n1,n2,n3)',
    ]);
    expect(problems(load, { NODES: 'n1', BUS_URL: 'redis://a:1', BUS_URLS: 'n1=redis://a:1' })).toEqual([
      expect.stringMatching(/^BUS_URL and BUS_URLS are both set/),
    ]);
    expect(problems(load, { NODES: 'n1', BUS_URLS: 'n1=redis://a:1,n1=redis://b:2' })).toEqual(['BUS_URLS gives n1 more than one URL']);
    expect(problems(load, { NODES: 'n1', BUS_URLS: 'redis://:hunter2@a:1' })).toEqual([
      'BUS_URLS must be comma-separated id=url pairs (n1=redis://127.0.0.1:7001,n2=…), got "redis://:***@a:1"',
      expect.stringMatching(/^BUS_URLS has no URL for n1/),
    ]);
    expect(problems(load, { NODES: 'n1', BUS_URLS: 'n1=redis://:hunter2@a:1/x' })).toEqual([
      'BUS_URLS for n1: must be a Redis URL: the database (the path) must be a number; got "redis://:***@a:1/x"',
    ]);
  });

  it("BUS_URL (else REDIS_URL) is every node's home", () => {
    expect(node({ NODES: 'n1,n2', BUS_URL: 'redis://b:1', REDIS_URL: 'redis://r:1' }).busRoutes).toEqual({ n1: 'redis://b:1', n2: 'redis://b:1' });
    expect(gateway({ NODES: 'n1,n2', REDIS_URL: 'redis://r:1' }).busRoutes).toEqual({ n1: 'redis://r:1', n2: 'redis://r:1' });
  });
});

describe('the bus authentication rules, the same for the replica and the gateway', () => {
  it.each([
    ['replica', node],
    ['gateway', gateway],
  ])('%s: KEYS_DIR is required whatever the protocol', (_name, load) => {
    for (const PROTOCOL of ['raft', 'pbft']) {
      const NODES = PROTOCOL === 'pbft' ? 'n1,n2,n3,n4' : 'n1,n2,n3';
      expect(problems(load, { NODES, PROTOCOL, BUS_URL: 'redis://b:1', KEYS_DIR: undefined })).toEqual([expect.stringMatching(/^KEYS_DIR is required/)]);
      expect(load({ NODES, PROTOCOL, BUS_URL: 'redis://b:1', KEYS_DIR: '/k' })).toMatchObject({ keysDir: '/k', busVerify: true });
    }
  });

  it.each([
    ['replica', node],
    ['gateway', gateway],
  ])('%s: BUS_AUTH=off-test-only only under NODE_ENV=test', (_name, load) => {
    expect(load({ BUS_URL: 'redis://b:1', BUS_AUTH: 'off-test-only', NODE_ENV: 'test' })).toMatchObject({ busVerify: false });
    expect(problems(load, { BUS_URL: 'redis://b:1', BUS_AUTH: 'off-test-only', NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^BUS_AUTH=off-test-only switches frame authentication off and exists for the test suite only \(NODE_ENV=test\)/),
    ]);
    expect(problems(load, { BUS_URL: 'redis://b:1', BUS_AUTH: 'off-test-only' })).toHaveLength(1);
    expect(problems(load, { BUS_URL: 'redis://b:1', BUS_AUTH: 'nope' })).toEqual(['BUS_AUTH must be on or off-test-only, got "nope"']);
  });
});

describe('pieces', () => {
  it('treat a blank variable as unset, and a non-string as a problem', () => {
    expect(gateway({ BUS_URL: 'redis://b:1', PORT: '  ', CLUSTER: '' })).toMatchObject({ port: 3000, cluster: 'synod' });
    expect(problems(gateway, { BUS_URL: 'redis://b:1', PORT: 3000 as unknown as string })).toEqual(['PORT must be a string']);
  });

  it('check one value the way the schemas do', () => {
    const found: string[] = [];
    expect(pieces.check(pieces.port(1), '80', '--port', found)).toBe(80);
    expect(pieces.check(pieces.port(1), 'x', '--port', found)).toBeUndefined();
    expect(found).toEqual(['--port must be an integer in [0, 65535], got "x"']);
  });

  it('give the launcher the same rules for PORT, CLUSTER and REDIS_URL', () => {
    expect(loadLauncherEnv({ PORT: '0', CLUSTER: 'c', REDIS_URL: 'redis+sentinel://s/m' })).toEqual({
      port: 0,
      cluster: 'c',
      redisUrl: 'redis+sentinel://s/m',
    });
    expect(problems(loadLauncherEnv, { PORT: '-1', CLUSTER: 'a.b', REDIS_URL: 'x' }).map((p) => p.split(' ')[0])).toEqual(['PORT', 'CLUSTER', 'REDIS_URL']);
  });

  it('read host names and IPs as bind addresses', () => {
    for (const [text, out] of [
      ['0.0.0.0', '0.0.0.0'],
      ['::', '::'],
      ['[::1]', '::1'],
      ['gateway.local', 'gateway.local'],
    ]) {
      // Off loopback the admin API needs a token (gateway.ts): give one, so only HOST is tested.
      expect(gateway({ BUS_URL: 'redis://b:1', HOST: text, ADMIN_TOKEN: 't' }).host).toBe(out);
    }
    for (const bad of ['http://h', 'h:80', '[h]', 'a b']) expect(problems(gateway, { BUS_URL: 'redis://b:1', HOST: bad })).toHaveLength(1);
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
    ['99999999999gb', null],
  ])('%p → %p', (s, n) => expect(parseSize(s)).toBe(n));
});
