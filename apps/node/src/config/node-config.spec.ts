import { ConfigError, loadNodeConfig } from './node-config';

const base = { NODE_ID: 'n1', NODES: 'n1,n2,n3', BUS_URL: 'redis://127.0.0.1:7000', STORAGE_URL: 'redis://127.0.0.1:7001' };

describe('replica configuration', () => {
  it('accepts a minimal environment and fills in the defaults', () => {
    const cfg = loadNodeConfig(base);
    expect(cfg).toMatchObject({ cluster: 'synod', nodeId: 'n1', nodes: ['n1', 'n2', 'n3'], protocol: 'raft', tickMs: 50, electionTicks: 10 });
  });

  it('names every bad value at once', () => {
    let err: ConfigError | undefined;
    try {
      loadNodeConfig({ NODE_ID: 'n9', NODES: 'n1,n1,bad id', BUS_URL: 'http://x', TICK_MS: 'fast', PROTOCOL: 'paxos', HEARTBEAT_TICKS: '20' });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = err!.problems.join('\n');
    for (const name of ['NODES contains an invalid id', 'NODES has duplicates', 'NODE_ID n9 is not in NODES', 'BUS_URL must be a redis:// URL', 'STORAGE_URL is required', 'TICK_MS must be an integer', 'PROTOCOL must be raft or pbft', 'HEARTBEAT_TICKS must be below ELECTION_TICKS']) {
      expect(text).toContain(name);
    }
  });

  it('refuses a PBFT cluster that is not 3f+1 or has no keys', () => {
    expect(() => loadNodeConfig({ ...base, PROTOCOL: 'pbft' })).toThrow(/3f\+1[\s\S]*KEYS_DIR/);
    expect(() => loadNodeConfig({ ...base, PROTOCOL: 'pbft', NODES: 'n1,n2,n3,n4', KEYS_DIR: '/tmp/k' })).not.toThrow();
  });
});
