import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoWorkers } from '@app/config';
import { ConfigError, loadConfig, redact } from './config';

/** The least a gateway needs: a bus, and the key files every bus frame is authenticated with. */
const BUS = { BUS_URL: 'redis://127.0.0.1:7000', KEYS_DIR: '/keys' };

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
    expect(loadConfig(BUS)).toEqual({
      port: 3000,
      host: '127.0.0.1',
      cluster: 'synod',
      busRoutes: { n1: 'redis://127.0.0.1:7000', n2: 'redis://127.0.0.1:7000', n3: 'redis://127.0.0.1:7000' },
      queueUrl: 'redis://127.0.0.1:7000',
      nodes: ['n1', 'n2', 'n3'],
      protocol: 'raft',
      adminToken: null,
      corsOrigins: [],
      supervisorUrl: null,
      supervisorToken: null,
      requestTimeoutMs: 5000,
      attemptTimeoutMs: 1000,
      controlTimeoutMs: 5000,
      supervisorTimeoutMs: 1000,
      beaconTimeoutMs: 900,
      maxKeyBytes: 1024,
      maxValueBytes: 65536,
      maxTxnOps: 128,
      watchProgressMs: 5000,
      historyRetainMs: 0,
      bodyLimitBytes: 1024 * 1024,
      bodyLimit: '1mb',
      maxBatchRequests: 512,
      readsFrom: 'leader',
      voters: ['n1', 'n2', 'n3'],
      commandAttempts: 10,
      commandBackoffMs: 250,
      keysDir: '/keys',
      workers: autoWorkers('raft', availableParallelism()),
      busVerify: true,
    });
    expect(loadConfig({ ...BUS, PROTOCOL: 'pbft' }).nodes).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('requires a bus URL, taking REDIS_URL when BUS_URL is unset', () => {
    expect(problems({ KEYS_DIR: '/keys' })).toEqual([expect.stringContaining('BUS_URL is required')]);
    expect(loadConfig({ REDIS_URL: 'redis://h:1', KEYS_DIR: '/keys' })).toMatchObject({
      busRoutes: { n1: 'redis://h:1', n2: 'redis://h:1', n3: 'redis://h:1' },
      queueUrl: 'redis://h:1',
    });
    expect(loadConfig({ REDIS_URL: 'redis://h:1', BUS_URL: 'redis://b:2', QUEUE_URL: 'redis://q:3', KEYS_DIR: '/keys' })).toMatchObject({
      busRoutes: { n1: 'redis://b:2', n2: 'redis://b:2', n3: 'redis://b:2' },
      queueUrl: 'redis://q:3',
    });
  });

  it('takes a home Redis per node from BUS_URLS', () => {
    const KEYS_DIR = '/keys';
    const c = loadConfig({ NODES: 'a,b', BUS_URLS: 'a=redis://h:7001, b=redis+sentinel://s1:26379,s2:26379/bus', QUEUE_URL: 'redis://q:1', KEYS_DIR });
    expect(c.busRoutes).toEqual({ a: 'redis://h:7001', b: 'redis+sentinel://s1:26379,s2:26379/bus' });
    expect(c.queueUrl).toBe('redis://q:1');
    // With one home per node there is no obvious queue Redis: say so, unless REDIS_URL gives one.
    expect(problems({ NODES: 'a', BUS_URLS: 'a=redis://h:7001', KEYS_DIR })).toEqual([expect.stringMatching(/^QUEUE_URL is required with BUS_URLS/)]);
    expect(loadConfig({ NODES: 'a', BUS_URLS: 'a=redis://h:7001', REDIS_URL: 'redis://r:1', KEYS_DIR }).queueUrl).toBe('redis://r:1');
  });

  it('reads every variable', () => {
    const c = loadConfig({
      ...BUS,
      PORT: '8080',
      HOST: '0.0.0.0',
      CLUSTER: 'c-1',
      NODES: ' a , b,c ',
      ADMIN_TOKEN: 's3cret',
      SUPERVISOR_URL: 'http://127.0.0.1:3100/',
      SUPERVISOR_TOKEN: 'sup',
      REQUEST_TIMEOUT_MS: '2000',
      ATTEMPT_TIMEOUT_MS: '300',
      CONTROL_TIMEOUT_MS: '700',
      BEACON_TIMEOUT_MS: '1500',
      MAX_KEY_BYTES: '10',
      MAX_VALUE_BYTES: '20',
      BODY_LIMIT: '512kb',
    });
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      cluster: 'c-1',
      nodes: ['a', 'b', 'c'],
      adminToken: 's3cret',
      supervisorUrl: 'http://127.0.0.1:3100',
      supervisorToken: 'sup',
      requestTimeoutMs: 2000,
      attemptTimeoutMs: 300,
      controlTimeoutMs: 700,
      supervisorTimeoutMs: 700,
      beaconTimeoutMs: 1500,
      maxKeyBytes: 10,
      maxValueBytes: 20,
      bodyLimitBytes: 512 * 1024,
      bodyLimit: '512kb',
    });
    expect(loadConfig({ ...BUS, REQUEST_TIMEOUT_MS: '100', ATTEMPT_TIMEOUT_MS: '300' }).attemptTimeoutMs).toBe(100);
  });

  it('refuses a HOST off loopback without ADMIN_TOKEN: the admin API would be open to the network', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', '192.168.0.7', 'gateway.example', '[::]']) {
      const found = problems({ ...BUS, HOST: host });
      expect(found).toEqual([expect.stringMatching(/^ADMIN_TOKEN is required when HOST is not a loopback address/)]);
      expect(found[0]).toContain(host.replace(/^\[(.*)\]$/, '$1'));
      // a blank token is no token (compose's ${ADMIN_TOKEN:-} when unset)
      expect(problems({ ...BUS, HOST: host, ADMIN_TOKEN: '  ' })).toHaveLength(1);
      expect(loadConfig({ ...BUS, HOST: host, ADMIN_TOKEN: 't0ken' })).toMatchObject({ adminToken: 't0ken' });
    }
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      expect({ host, problems: problems({ ...BUS, HOST: host }) }).toEqual({ host, problems: [] });
    }
  });

  // The real entry point (through ts-node, so no build is needed): refused before anything starts.
  it('the config problem is an exit 2 with a clear message from the gateway process', () => {
    const main = require.resolve('../main');
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', main], {
      env: { PATH: process.env.PATH, BUS_URL: 'redis://127.0.0.1:1', HOST: '0.0.0.0', KEYS_DIR: '/nonexistent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^gateway: invalid gateway configuration:\n {2}- ADMIN_TOKEN is required when HOST is not a loopback address \(HOST is 0\.0\.0\.0\)/,
    );
  }, 60_000);

  it('requires KEYS_DIR, for Raft as for PBFT: every bus frame is authenticated', () => {
    for (const protocol of ['raft', 'pbft']) {
      const found = problems({ BUS_URL: 'redis://127.0.0.1:7000', PROTOCOL: protocol });
      expect({ protocol, found }).toEqual({ protocol, found: [expect.stringMatching(/^KEYS_DIR is required/)] });
      expect(problems({ BUS_URL: 'redis://127.0.0.1:7000', PROTOCOL: protocol, KEYS_DIR: '  ' })).toEqual(found); // blank is unset
    }
    expect(loadConfig({ ...BUS, KEYS_DIR: '/etc/synod/keys' }).keysDir).toBe('/etc/synod/keys');
  });

  it('switches bus authentication off only with BUS_AUTH=off-test-only under NODE_ENV=test', () => {
    expect(loadConfig({ ...BUS, BUS_AUTH: 'on' }).busVerify).toBe(true);
    expect(loadConfig({ ...BUS, BUS_AUTH: 'on', NODE_ENV: 'production' }).busVerify).toBe(true);
    expect(loadConfig({ ...BUS, BUS_AUTH: 'off-test-only', NODE_ENV: 'test' }).busVerify).toBe(false);
    for (const env of [{} as Record<string, string>, { NODE_ENV: 'production' }, { NODE_ENV: 'development' }, { NODE_ENV: 'TEST' }, { NODE_ENV: '' }]) {
      expect({ env, found: problems({ ...BUS, BUS_AUTH: 'off-test-only', ...env }) }).toEqual({
        env,
        found: [expect.stringMatching(/^BUS_AUTH=off-test-only .*test suite only \(NODE_ENV=test\)/)],
      });
    }
    // Nothing else switches it off.
    for (const value of ['off', 'false', '0', 'no', 'OFF-TEST-ONLY']) {
      expect({ value, found: problems({ ...BUS, BUS_AUTH: value, NODE_ENV: 'test' }) }).toEqual({
        value,
        found: [expect.stringMatching(/^BUS_AUTH must be on or off-test-only, got/)],
      });
    }
  });

  // The real entry point again: a KEYS_DIR without the key files is refused before the gateway is up.
  it('a KEYS_DIR without key files is an exit 2 naming the missing file', () => {
    const empty = mkdtempSync(join(tmpdir(), 'synod-no-keys-'));
    try {
      const main = require.resolve('../main');
      const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', main], {
        env: { PATH: process.env.PATH, BUS_URL: 'redis://127.0.0.1:1', KEYS_DIR: empty, LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toMatch(new RegExp(`^gateway: failed to start: bus key file ${join(empty, 'gateway.bus.key')} is missing`, 'm'));
      expect(r.status).toBe(2);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);

  it('reads CORS_ORIGINS as origins (none by default), and refuses anything else', () => {
    expect(loadConfig({ ...BUS, CORS_ORIGINS: 'https://App.example.com, http://localhost:8080/,https://app.example.com:443' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:8080',
    ]);
    for (const bad of [
      '*',
      'app.example.com',
      'https://a.example/path',
      'ftp://a.example',
      'https://u:p@a.example',
      'https://a.example/?q',
      'https://a.example,',
    ]) {
      expect({ bad, problems: problems({ ...BUS, CORS_ORIGINS: bad }) }).toEqual({
        bad,
        problems: [expect.stringMatching(/^CORS_ORIGINS must be comma-separated origins/)],
      });
    }
  });

  it('names every bad value at once', () => {
    const found = problems({
      BUS_URL: 'http://x',
      PORT: '70000',
      HOST: 'not a host',
      CLUSTER: 'a:b',
      NODES: 'n1,,n2',
      PROTOCOL: 'paxos',
      SUPERVISOR_URL: 'ftp://x',
      REQUEST_TIMEOUT_MS: 'soon',
      BEACON_TIMEOUT_MS: '1',
      MAX_KEY_BYTES: '0',
      MAX_VALUE_BYTES: '-5',
      BODY_LIMIT: 'lots',
    });
    const names = [
      'BUS_URL',
      'PORT',
      'HOST',
      'CLUSTER',
      'NODES',
      'PROTOCOL',
      'SUPERVISOR_URL',
      'REQUEST_TIMEOUT_MS',
      'BEACON_TIMEOUT_MS',
      'MAX_KEY_BYTES',
      'MAX_VALUE_BYTES',
      'BODY_LIMIT',
      'KEYS_DIR',
    ];
    for (const name of names) expect(found.filter((p) => p.startsWith(`${name} `))).toHaveLength(1);
    expect(found).toHaveLength(names.length);
  });

  it('refuses duplicate nodes and a PBFT cluster that is not 3f+1', () => {
    expect(problems({ ...BUS, NODES: 'n1,n2,n1' })).toEqual(['NODES lists n1 more than once']);
    expect(problems({ ...BUS, PROTOCOL: 'pbft', NODES: 'n1,n2,n3', KEYS_DIR: '/keys' })).toEqual([
      expect.stringContaining('3f+1 replicas (4, 7, ...), NODES has 3'),
    ]);
    expect(problems({ ...BUS, PROTOCOL: 'pbft', NODES: 'a,b,c,d,e', KEYS_DIR: '/keys' })).toEqual([expect.stringContaining('NODES has 5')]);
    expect(problems({ BUS_URL: BUS.BUS_URL, PROTOCOL: 'pbft' })).toEqual([expect.stringContaining('KEYS_DIR')]);
  });

  it('never shows a password or a token', () => {
    const found = problems({
      BUS_URL: 'http://user:hunter2@host',
      QUEUE_URL: 'redis://:hunter2@h:1/x',
      SUPERVISOR_URL: 'gopher://u:hunter2@h',
      ADMIN_TOKEN: 'hunter2',
      SUPERVISOR_TOKEN: 'hunter2',
      KEYS_DIR: '/keys',
    });
    expect(found).toHaveLength(3);
    expect(found.join('\n')).not.toContain('hunter2');
    expect(redact('redis://:hunter2@h:1/0')).toBe('redis://:***@h:1/0');
  });
});

describe('GATEWAY_WORKERS', () => {
  it('auto (the default): a quarter of the cores, at most four, for Raft; one for PBFT', () => {
    expect([1, 2, 3, 4, 7, 8, 15, 16, 64].map((cores) => autoWorkers('raft', cores))).toEqual([1, 1, 1, 1, 1, 2, 3, 4, 4]);
    expect([1, 2, 16, 64].map((cores) => autoWorkers('pbft', cores))).toEqual([1, 1, 1, 1]);
    expect(loadConfig({ ...BUS, GATEWAY_WORKERS: 'auto', PROTOCOL: 'pbft' }).workers).toBe(1);
  });

  it('takes a count in [1, 64], and names the variable otherwise', () => {
    expect(loadConfig({ ...BUS, GATEWAY_WORKERS: '6' }).workers).toBe(6);
    for (const bad of ['0', '65', 'many', '2.5']) expect(problems({ ...BUS, GATEWAY_WORKERS: bad }).join()).toMatch(/GATEWAY_WORKERS/);
  });
});
