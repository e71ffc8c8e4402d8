import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadNodeConfig } from './node-config';

const base = { NODE_ID: 'n1', NODES: 'n1,n2,n3', BUS_URL: 'redis://127.0.0.1:7000', STORAGE_URL: 'redis://127.0.0.1:7001', KEYS_DIR: '/keys' };

function problems(env: Record<string, string>): string[] {
  try {
    loadNodeConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('replica configuration', () => {
  it('accepts a minimal environment and fills in the defaults', () => {
    expect(loadNodeConfig(base)).toEqual({
      cluster: 'synod',
      nodeId: 'n1',
      nodes: ['n1', 'n2', 'n3'],
      voters: ['n1', 'n2', 'n3'],
      join: false,
      pbftConfiguration: null,
      protocol: 'raft',
      busRoutes: { n1: 'redis://127.0.0.1:7000', n2: 'redis://127.0.0.1:7000', n3: 'redis://127.0.0.1:7000' },
      storageUrl: 'redis://127.0.0.1:7001',
      httpHost: '127.0.0.1',
      httpPort: 0,
      tickMs: 50,
      electionTicks: 10,
      heartbeatTicks: 2,
      beaconMs: 200,
      snapshotEvery: 10_000,
      maxEntriesPerMessage: 256,
      maxBytesPerMessage: 1024 * 1024,
      maxInflight: 64,
      keysDir: '/keys',
      busVerify: true,
      pbftMaxBatch: 64,
      pbftInflightBatches: 1,
      pbftCheckpointInterval: 32,
      sessionWindow: 1000,
      historyEvents: 10_000,
      leaseTtlFactor: 1,
    });
  });

  it('takes the initial voters from VOTERS (a subset of NODES) and JOIN for a replica added at runtime', () => {
    const cfg = loadNodeConfig({ ...base, NODES: 'n1,n2,n3,n4', BUS_URL: 'redis://127.0.0.1:7000', VOTERS: 'n1,n2,n3', JOIN: 'true' });
    expect(cfg.voters).toEqual(['n1', 'n2', 'n3']);
    expect(cfg.join).toBe(true);
    expect(() => loadNodeConfig({ ...base, VOTERS: 'n1,n9' })).toThrow(/VOTERS names n9, not in NODES/);
    expect(() => loadNodeConfig({ ...base, JOIN: 'maybe' })).toThrow(/JOIN/);
  });

  it('PBFT: VOTERS is the initial configuration (3f+1), NODES may hold spares, and a joiner may be given the configuration it trusts', () => {
    const pbft = { ...base, PROTOCOL: 'pbft', NODES: 'n1,n2,n3,n4,n5,n6' };
    expect(loadNodeConfig({ ...pbft, VOTERS: 'n1,n2,n3,n4' }).voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(problems({ ...pbft, VOTERS: 'n1,n2,n3' })).toEqual(['PBFT needs n = 3f+1 replicas (4, 7, ...), VOTERS has 3']);
    expect(problems(pbft)).toEqual(['PBFT needs n = 3f+1 replicas (4, 7, ...), NODES has 6']);
    const conf = { epoch: 2, replicas: ['n2', 'n3', 'n4', 'n5'], since: 64 };
    const joiner = loadNodeConfig({ ...pbft, NODE_ID: 'n6', VOTERS: 'n1,n2,n3,n4', JOIN: 'true', PBFT_CONFIGURATION: JSON.stringify(conf) });
    expect(joiner).toMatchObject({ join: true, pbftConfiguration: conf });
    expect(loadNodeConfig({ ...pbft, NODE_ID: 'n6', VOTERS: 'n1,n2,n3,n4', JOIN: 'true' }).pbftConfiguration).toBeNull();
    expect(problems({ ...pbft, VOTERS: 'n1,n2,n3,n4', PBFT_CONFIGURATION: JSON.stringify(conf) })).toEqual([
      'PBFT_CONFIGURATION is for a PBFT replica started to join (JOIN=true)',
    ]);
    expect(problems({ ...pbft, VOTERS: 'n1,n2,n3,n4', JOIN: 'true', PBFT_CONFIGURATION: '{"epoch":1,"replicas":["n1","n2","n9"],"since":3}' })).toEqual([
      'PBFT_CONFIGURATION names n9, not in NODES (n1,n2,n3,n4,n5,n6)',
      'PBFT_CONFIGURATION needs n = 3f+1 distinct replicas (4, 7, ...), has 3',
    ]);
    expect(problems({ ...pbft, VOTERS: 'n1,n2,n3,n4', JOIN: 'true', PBFT_CONFIGURATION: 'n1,n2' })).toEqual([
      expect.stringMatching(/^PBFT_CONFIGURATION must be JSON/),
    ]);
  });

  it('refuses a replica named after a non-replica principal (gateway, admin)', () => {
    expect(problems({ ...base, NODES: 'n1,n2,admin' })).toEqual(["NODES names admin: reserved for the gateway and admin principals' keys"]);
  });

  it('reads every variable', () => {
    const cfg = loadNodeConfig({
      ...base,
      CLUSTER: 'c-1',
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: '9100',
      TICK_MS: '20',
      ELECTION_TICKS: '30',
      HEARTBEAT_TICKS: '5',
      BEACON_MS: '100',
      SNAPSHOT_EVERY: '7',
      MAX_ENTRIES_PER_MESSAGE: '8',
      MAX_BYTES_PER_MESSAGE: '4096',
      MAX_INFLIGHT: '9',
      PBFT_MAX_BATCH: '10',
      PBFT_INFLIGHT_BATCHES: '3',
      PBFT_CHECKPOINT_INTERVAL: '11',
      SESSION_WINDOW: '20',
    });
    expect(cfg).toMatchObject({
      cluster: 'c-1',
      httpHost: '0.0.0.0',
      httpPort: 9100,
      tickMs: 20,
      electionTicks: 30,
      heartbeatTicks: 5,
      beaconMs: 100,
      snapshotEvery: 7,
      maxEntriesPerMessage: 8,
      maxBytesPerMessage: 4096,
      maxInflight: 9,
      pbftMaxBatch: 10,
      pbftInflightBatches: 3,
      pbftCheckpointInterval: 11,
      sessionWindow: 20,
    });
  });

  it('takes REDIS_URL for the bus and the storage when they are unset', () => {
    expect(loadNodeConfig({ NODE_ID: 'n2', REDIS_URL: 'redis://r:1', KEYS_DIR: '/keys' })).toMatchObject({
      nodes: ['n1', 'n2', 'n3'],
      busRoutes: { n1: 'redis://r:1', n2: 'redis://r:1', n3: 'redis://r:1' },
      storageUrl: 'redis://r:1',
    });
  });

  it("takes its own home, and every other node's, from BUS_URLS", () => {
    const cfg = loadNodeConfig({ ...base, BUS_URL: '', NODE_ID: 'n2', BUS_URLS: 'n1=redis://h:7001,n2=redis://h:7002,n3=rediss://h:7003' });
    expect(cfg.busRoutes).toEqual({ n1: 'redis://h:7001', n2: 'redis://h:7002', n3: 'rediss://h:7003' });
  });

  it('names every bad value at once', () => {
    const found = problems({
      NODE_ID: 'n9',
      NODES: 'n1,n1,bad id',
      BUS_URL: 'http://x',
      TICK_MS: 'fast',
      PROTOCOL: 'paxos',
      HEARTBEAT_TICKS: '20',
      HTTP_HOST: 'a/b',
    });
    expect(found).toEqual([
      'NODES contains an invalid id "bad id" (ids are 1-64 characters of [A-Za-z0-9_-])',
      'NODES lists n1 more than once',
      'PROTOCOL must be raft or pbft, got "paxos"',
      expect.stringMatching(/^BUS_URL must be a Redis URL: .*got "http:\/\/x"$/),
      expect.stringMatching(/^HTTP_HOST must be a host name/),
      'TICK_MS must be an integer in [1, 10000], got "fast"',
      expect.stringMatching(/^KEYS_DIR is required/),
      'NODE_ID n9 is not in NODES (n1,n1,bad id)',
      expect.stringMatching(/^STORAGE_URL is required/),
      'HEARTBEAT_TICKS must be below ELECTION_TICKS (20 >= 10)',
    ]);
  });

  it('requires NODE_ID', () => {
    expect(problems({ ...base, NODE_ID: '' })).toEqual([expect.stringMatching(/^NODE_ID is required/)]);
  });

  it('refuses a PBFT cluster that is not 3f+1 or has no keys', () => {
    const { KEYS_DIR: _keys, ...noKeys } = base;
    expect(problems({ ...noKeys, PROTOCOL: 'pbft' })).toEqual([expect.stringContaining('3f+1'), expect.stringContaining('KEYS_DIR is required')]);
    expect(loadNodeConfig({ ...base, PROTOCOL: 'pbft', NODES: 'n1,n2,n3,n4', KEYS_DIR: '/tmp/k' }).keysDir).toBe('/tmp/k');
  });

  it('requires KEYS_DIR with Raft too: every bus frame is authenticated with the keys there', () => {
    const { KEYS_DIR: _keys, ...noKeys } = base;
    expect(problems(noKeys)).toEqual([expect.stringMatching(/^KEYS_DIR is required: every bus frame is authenticated/)]);
    expect(problems({ ...noKeys, KEYS_DIR: ' ' })).toEqual([expect.stringMatching(/^KEYS_DIR is required/)]);
  });

  it('switches bus authentication off only with BUS_AUTH=off-test-only under NODE_ENV=test', () => {
    expect(loadNodeConfig({ ...base, BUS_AUTH: 'on' }).busVerify).toBe(true);
    expect(loadNodeConfig({ ...base, BUS_AUTH: 'off-test-only', NODE_ENV: 'test' }).busVerify).toBe(false);
    for (const env of [{} as Record<string, string>, { NODE_ENV: 'production' }, { NODE_ENV: 'Test' }]) {
      expect({ env, found: problems({ ...base, BUS_AUTH: 'off-test-only', ...env }) }).toEqual({
        env,
        found: [expect.stringMatching(/^BUS_AUTH=off-test-only .*NODE_ENV=test/)],
      });
    }
    expect(problems({ ...base, BUS_AUTH: 'off', NODE_ENV: 'test' })).toEqual([expect.stringMatching(/^BUS_AUTH must be on or off-test-only, got "off"/)]);
  });

  // The real entry point (through ts-node, so no build is needed): no key file, no replica.
  it('a KEYS_DIR without key files is an exit 2 naming the missing file, before anything starts', () => {
    const empty = mkdtempSync(join(tmpdir(), 'synod-no-keys-'));
    try {
      const main = require.resolve('../main');
      const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', main], {
        env: { PATH: process.env.PATH, ...base, BUS_URL: 'redis://127.0.0.1:1', STORAGE_URL: 'redis://127.0.0.1:1', KEYS_DIR: empty, LOG_LEVEL: 'fatal' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stdout + r.stderr).toContain(`bus key file ${join(empty, 'n1.bus.key')} is missing`);
      expect(r.status).toBe(2);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);

  it('never shows a password', () => {
    const found = problems({ ...base, STORAGE_URL: 'redis://:hunter2@h:1/zero', BUS_URLS: 'n1=redis://:hunter2@x:0' });
    expect(found.length).toBeGreaterThanOrEqual(3);
    expect(found.join('\n')).not.toContain('hunter2');
  });
});
