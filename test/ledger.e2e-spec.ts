import Redis from 'ioredis';
import { Packr } from 'msgpackr';
import { readRedisSecrets } from '../apps/launcher/src/redis-secrets';
import { verifyPbftLedger, type LedgerCheckpointCertificate, type PbftLedgerBlock } from '../libs/consensus/src/ledger';
import { ed25519Crypto } from '../libs/consensus/src/pbft/crypto';
import { loadKeys, PBFT_CLIENT_ID } from '../libs/wire/src';
import { TestCluster, waitFor } from './support/cluster';

/** The store's records: msgpack of the cores' plain objects (apps/node/src/{raft,pbft}/codec.ts). */
const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * Rewrites one entry of a replica's log stream in place, as a disk that went bad (or someone with
 * the storage password) would: XADD refuses ids below the last one, so the entries from it on are
 * taken out and put back with the same ids, the one changed, in one atomic script.
 */
const REWRITE = `
local key, target, value = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local info = redis.call('XINFO', 'STREAM', key)
local lastgen
for i = 1, #info, 2 do if info[i] == 'last-generated-id' then lastgen = info[i + 1] end end
local kept, top = {}, '0-1'
for _, e in ipairs(redis.call('XRANGE', key, '-', '+')) do
  if tonumber(string.match(e[1], '-(%d+)$')) >= target then
    table.insert(kept, e)
    redis.call('XDEL', key, e[1])
  else
    top = e[1]
  end
end
redis.call('XSETID', key, top)
for _, e in ipairs(kept) do
  local data = e[2][2]
  if tonumber(string.match(e[1], '-(%d+)$')) == target then data = value end
  redis.call('XADD', key, e[1], 'd', data)
end
redis.call('XSETID', key, lastgen)
return #kept`;

async function corruptOneEntry(c: TestCluster, id: string, protocol: string): Promise<number> {
  const secrets = readRedisSecrets(c.info.keys)!;
  const url = new URL(c.info.homes[id]);
  const redis = new Redis({ host: url.hostname, port: Number(url.port), username: id, password: secrets[id], maxRetriesPerRequest: 1 });
  try {
    const log = `synod:{${c.info.cluster}:${id}}:log`;
    const [[streamId, fields]] = await redis.xrangeBuffer(log, '-', '+', 'COUNT', 1);
    const index = Number(streamId.toString().split('-')[1]);
    const record = packr.unpack(fields[1]) as Record<string, unknown>;
    // Raft: the entry's term; PBFT: the executed batch's digest. Both still decode: a plausible lie.
    if (protocol === 'raft') record.term = Number(record.term) + 1;
    else record.digest = 'f'.repeat(64);
    await redis.eval(REWRITE, 1, log, String(index), packr.pack(record));
    return index;
  } finally {
    redis.disconnect();
  }
}

describe.each([
  ['raft', ['--protocol', 'raft', '--node-env', 'SNAPSHOT_EVERY=25']],
  ['pbft', ['--protocol', 'pbft', '--node-env', 'PBFT_CHECKPOINT_INTERVAL=8', '--node-env', 'TICK_MS=20']],
])('verifiable ledger (%s)', (protocol, args) => {
  let c: TestCluster;
  const writes = async (prefix: string, n: number) => {
    for (let i = 0; i < n; i++) await c.putUntilOk(`${prefix}/${i % 7}`, `v${i}`, 30_000, `${prefix}-${i}`);
  };
  const verify = async () => {
    const r = await c.http('GET', '/v1/ledger/verify');
    expect(r.status).toBe(200);
    return r.body;
  };
  /** verify once every replica is back and has caught up (beacons and applied indexes settle). */
  const verifiedOk = () =>
    waitFor(
      async () => {
        await c.waitForConvergence(30_000);
        const v = await verify();
        return v.ok ? v : null;
      },
      60_000,
      'GET /v1/ledger/verify ok',
    );

  beforeAll(async () => {
    c = await TestCluster.start(args);
    await c.waitForLeader();
  }, 90_000);
  afterAll(async () => {
    await c?.stop();
  }, 30_000);

  it('after writes, every replica rechecks its chain intact and all agree at one index', async () => {
    await writes('ledger', 60);
    const v = await verifiedOk();
    expect(v).toMatchObject({ ok: true, protocol, agree: true });
    expect(v.replicas).toHaveLength(protocol === 'raft' ? 3 : 4);
    for (const r of v.replicas) expect(r).toMatchObject({ reachable: true, alive: true, intact: true, head: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(new Set(v.replicas.map((r: any) => r.hashAtCommon)).size).toBe(1);
    // The beacons publish each head with its applied index.
    const cluster = await c.clusterState();
    expect(cluster.nodes.length).toBeGreaterThan(0);
  }, 120_000);

  it('serves blocks that chain, 410 below compaction, 400 naming a bad field', async () => {
    const first = await c.http('GET', '/v1/ledger/blocks?from=1&limit=5');
    let from = 1;
    if (protocol === 'raft') {
      // Snapshots (SNAPSHOT_EVERY=25) compacted the front of the log by now.
      expect(first.status).toBe(410);
      expect(first.body).toMatchObject({ type: expect.stringMatching(/compacted$/), field: 'from', compactedThrough: expect.any(Number) });
      from = first.body.compactedThrough + 1;
    } else {
      // PBFT replicas keep the recent blocks in memory past their stable checkpoint (the ones certificates cover).
      expect(first.status).toBe(200);
      expect(first.body.blocks[0]).toMatchObject({ index: 1, prevHash: '0'.repeat(64) });
    }
    const r = await c.http('GET', `/v1/ledger/blocks?from=${from}&limit=20`);
    expect(r.status).toBe(200);
    const blocks = r.body.blocks;
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks[0].index).toBe(from);
    for (let i = 1; i < blocks.length; i++) {
      expect(blocks[i].index).toBe(blocks[i - 1].index + 1);
      expect(blocks[i].prevHash).toBe(blocks[i - 1].hash);
    }
    expect((await c.http('GET', '/v1/ledger/blocks?from=abc')).body).toMatchObject({ status: 400, field: 'from' });
    expect((await c.http('GET', '/v1/ledger/blocks?limit=0')).body).toMatchObject({ status: 400, field: 'limit' });
    expect((await c.http('GET', '/v1/ledger/blocks?limit=5000')).body).toMatchObject({ status: 400, field: 'limit' });
  }, 60_000);

  if (protocol === 'pbft')
    it('PBFT: a client checks blocks against the checkpoint certificate (2f+1 signatures); a tampered block fails', async () => {
      const keys = loadKeys(c.info.keys, 'n1', ['n1', 'n2', 'n3', 'n4', PBFT_CLIENT_ID]);
      const check = ed25519Crypto(keys.privateKeyPem, keys.publicKeys).verify;
      // The blocks the newest kept certificates cover: the memory window keeps a few checkpoint intervals.
      const found = await waitFor(
        async () => {
          const probe = await c.http('GET', '/v1/ledger/blocks?from=1&limit=1');
          const from = probe.status === 410 ? probe.body.compactedThrough + 1 : 1;
          const r = await c.http('GET', `/v1/ledger/blocks?from=${from}&limit=1000`);
          return r.status === 200 && r.body.certificates?.length > 0 ? r.body : null;
        },
        30_000,
        'blocks with a checkpoint certificate',
      );
      const blocks = found.blocks as PbftLedgerBlock[];
      const certs = found.certificates as LedgerCheckpointCertificate[];
      const ids = ['n1', 'n2', 'n3', 'n4'];
      const good = verifyPbftLedger(blocks, certs, ids, check);
      expect(good).toMatchObject({ ok: true, certifiedThrough: expect.any(Number) });
      const tampered = structuredClone(blocks);
      tampered[0].digest = '0'.repeat(64);
      expect(verifyPbftLedger(tampered, certs, ids, check).ok).toBe(false);
    }, 60_000);

  it('stays verifiable through a chaos run: kills and revives while writing', async () => {
    const leader = await c.waitForLeader();
    const other = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    const load = writes('chaos', 40);
    expect((await c.admin(other, 'kill')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await c.admin(leader, 'kill')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await c.admin(leader, 'revive')).status).toBe(200);
    expect((await c.admin(other, 'revive')).status).toBe(200);
    await load;
    await writes('after-chaos', 10);
    const v = await verifiedOk();
    expect(v).toMatchObject({ ok: true, agree: true });
  }, 180_000);

  it("detects a replica's stored entry changed behind its back (and only that replica)", async () => {
    const cluster = await c.clusterState();
    const victim = cluster.nodes.find((n: any) => n.alive && n.id !== cluster.leader).id as string;
    const index = await corruptOneEntry(c, victim, protocol);
    const v = await verify();
    expect(v.ok).toBe(false);
    const bad = v.replicas.find((r: any) => r.id === victim);
    expect(bad).toMatchObject({ intact: false, firstBadIndex: index });
    for (const r of v.replicas.filter((x: any) => x.id !== victim)) expect(r.intact).toBe(true);
  }, 60_000);
});
