import { RpcException } from '@nestjs/microservices';
import { CLIENT_PRINCIPAL, FrameAuth, openEnvelope } from '@app/bus';
import { splitFrame, unpackBody } from '@app/bus/frame';
import { redisOptions } from '@app/config';
import { controlPattern, type ControlRequest, type ControlStatus, type SupervisorAction, type SupervisorStatus } from '@app/wire';
import type { Server } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { firstValueFrom, timeout } from 'rxjs';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { startSupervisorServer, UnknownNodeError } from '../../../launcher/src/supervisor-server';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { startControlServer, type ControlServer } from '../testing/control-server';
import { FakeReplica, FakeStore } from '../testing/fake-replica';
import { http, startGateway, waitForReplicas, waitUntil, type RunningGateway } from '../testing/gateway-harness';
import { testBusAuth } from '../testing/test-keys';

jest.setTimeout(30_000);

const CLUSTER = 'admin';
const TOKEN = 'let-me-in';
const auth = { Authorization: `Bearer ${TOKEN}` };

let redis: TestRedis;
let gw: RunningGateway;
let replicas: ControlServer;
/** n1..n3 on the bus (beaconing, so the gateway knows their incarnations); n1 and n2 have a control plane. */
let fakes: FakeReplica[];

/** A follower's control status, with `over` changed. */
function controlStatus(id: string, over: Partial<ControlStatus> = {}): ControlStatus {
  return { id, alive: true, isolated: false, byzantine: 'none', role: 'follower', term: 1, leader: null, commitIndex: 0, appliedIndex: 0, pid: 4242, ...over };
}

/** A replica's control plane: applies the action to a status it keeps. */
function replica(id: string): (data: unknown) => ControlStatus {
  const status = controlStatus(id);
  return (data) => {
    const req = data as ControlRequest;
    if (req.action === 'kill') status.alive = false;
    if (req.action === 'revive') status.alive = true;
    if (req.action === 'isolate') {
      if (id === 'n2') throw new RpcException('isolation is broken on n2');
      status.isolated = true;
    }
    if (req.action === 'heal') status.isolated = false;
    if (req.action === 'byzantine') status.byzantine = req.behavior ?? 'none';
    return { ...status };
  };
}

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  const store = new FakeStore();
  fakes = await Promise.all(['n1', 'n2', 'n3'].map((id) => new FakeReplica({ url: redis.url, cluster: CLUSTER, id, store }).start()));
  // n3 is on the bus but its control plane never answers (it has none).
  replicas = await startControlServer(redis.url, [
    { replica: fakes[0], handle: replica('n1') },
    { replica: fakes[1], handle: replica('n2') },
  ]);
  gw = await startGateway({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', ADMIN_TOKEN: TOKEN }, { controlTimeoutMs: 700, supervisorTimeoutMs: 1000 });
  await waitForReplicas(gw, ['n1', 'n2', 'n3']);
});

afterAll(async () => {
  await gw?.close();
  await replicas?.close();
  await Promise.all((fakes ?? []).map((f) => f.stop()));
  await redis?.stop();
});

const actionsSeen = (): unknown[] => replicas.calls.map((c) => c.data);

describe('admin API', () => {
  it('needs the bearer token when ADMIN_TOKEN is set', async () => {
    const attempts: Array<Record<string, string>> = [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }, { Authorization: `Basic ${TOKEN}` }];
    for (const headers of attempts) {
      const res = await http(gw.base, 'POST', '/v1/admin/nodes/n1/kill', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body).toMatchObject({ type: 'https://synod.dev/problems/unauthorized', status: 401, detail: expect.stringContaining('Authorization') });
    }
    expect(replicas.calls).toHaveLength(0);
    // and before revealing whether a node exists
    expect((await http(gw.base, 'POST', '/v1/admin/nodes/n9/kill')).status).toBe(401);
  });

  it('the membership routes need the token too; GET /v1/members does not', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/admin/members', { id: 'n4', role: 'voter' }],
      ['POST', '/v1/admin/members/n2/promote', undefined],
      ['POST', '/v1/admin/members/n2/demote', undefined],
      ['DELETE', '/v1/admin/members/n2', undefined],
      ['POST', '/v1/admin/leader/transfer', { to: 'n2' }],
    ] as const) {
      const res = await http(gw.base, method, path, { body });
      expect(res.status).toBe(401);
    }
    const members = await http(gw.base, 'GET', '/v1/members');
    expect(members.status).toBe(200);
    expect(members.body.members.map((m: { id: string; role: string }) => `${m.id}:${m.role}`)).toEqual(['n1:voter', 'n2:voter', 'n3:voter']);
  });

  it('kill, revive, isolate, heal reach the replica and answer with its status', async () => {
    const kill = await http(gw.base, 'POST', '/v1/admin/nodes/n1/kill', { headers: auth });
    expect(kill.status).toBe(200);
    expect(kill.body).toMatchObject({ id: 'n1', alive: false });
    // no supervisor runs: revive goes to the replica itself
    const revive = await http(gw.base, 'POST', '/v1/admin/nodes/n1/revive', { headers: auth });
    expect(revive.body).toMatchObject({ id: 'n1', alive: true });
    expect((await http(gw.base, 'POST', '/v1/admin/nodes/n1/isolate', { headers: auth })).body).toMatchObject({ isolated: true });
    expect((await http(gw.base, 'POST', '/v1/admin/nodes/n1/heal', { headers: auth })).body).toMatchObject({ isolated: false });
    expect(actionsSeen()).toEqual([{ action: 'kill' }, { action: 'revive' }, { action: 'isolate' }, { action: 'heal' }]);
  });

  it('unknown node → 404; byzantine on a raft cluster → 400', async () => {
    const unknown = await http(gw.base, 'POST', '/v1/admin/nodes/n9/isolate', { headers: auth });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ type: 'https://synod.dev/problems/not-found', detail: expect.stringContaining('n9'), nodes: ['n1', 'n2', 'n3'] });
    const byz = await http(gw.base, 'POST', '/v1/admin/nodes/n1/byzantine', { headers: auth, body: { behavior: 'forge' } });
    expect(byz.status).toBe(400);
    expect(byz.body.detail).toContain('PBFT');
  });

  it('a replica that refuses → 502; one that never answers → 504', async () => {
    const refused = await http(gw.base, 'POST', '/v1/admin/nodes/n2/isolate', { headers: auth });
    expect(refused.status).toBe(502);
    expect(refused.body.detail).toContain('isolation is broken on n2');
    const started = Date.now();
    const silent = await http(gw.base, 'POST', '/v1/admin/nodes/n3/kill', { headers: auth });
    expect(silent.status).toBe(504);
    expect(silent.body).toMatchObject({ status: 504, detail: expect.stringContaining('n3'), node: 'n3' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
  });

  it('a hard kill without a supervisor → 501 at once', async () => {
    const started = Date.now();
    const res = await http(gw.base, 'POST', '/v1/admin/nodes/n1/kill?mode=hard', { headers: auth });
    expect(res.status).toBe(501);
    expect(res.body.detail).toContain('supervisor');
    expect(Date.now() - started).toBeLessThan(600);
  });

  describe("with the launcher's supervisor (its real HTTP door, processes faked)", () => {
    let door: Server;
    let sup: RunningGateway;
    const calls: Array<[string, SupervisorAction | 'list']> = [];
    const processes = new Map<string, SupervisorStatus>(
      ['n1', 'n2', 'n3'].map((id, i) => [id, { id, running: true, pid: 101 + i, storageRunning: true, restarts: 0 }]),
    );

    beforeAll(async () => {
      const started = await startSupervisorServer(
        {
          list: () => {
            calls.push(['*', 'list']);
            return [...processes.values()];
          },
          act: async (node, action) => {
            calls.push([node, action]);
            const p = processes.get(node);
            if (!p) throw new UnknownNodeError(`no process ${node}`);
            if (action === 'hard-kill') Object.assign(p, { running: false, pid: null });
            if (action === 'respawn') Object.assign(p, { running: true, pid: 999 });
            if (action === 'storage-kill') p.storageRunning = false;
            if (action === 'storage-restart') p.storageRunning = true;
            return { ...p };
          },
        },
        'sup-token',
      );
      door = started.server;
      sup = await startGateway(
        { BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', ADMIN_TOKEN: TOKEN, SUPERVISOR_URL: started.url, SUPERVISOR_TOKEN: 'sup-token' },
        { controlTimeoutMs: 700, supervisorTimeoutMs: 1000 },
      );
      await waitForReplicas(sup, ['n1', 'n2', 'n3']);
    });
    afterAll(async () => {
      await sup?.close();
      await new Promise((r) => door?.close(r));
    });

    it('hard kill goes to the supervisor; revive of a dead process respawns it', async () => {
      calls.length = 0;
      const kill = await http(sup.base, 'POST', '/v1/admin/nodes/n3/kill?mode=hard', { headers: auth });
      expect(kill.status).toBe(200);
      expect(kill.body).toMatchObject({ id: 'n3', alive: false, mode: 'hard', running: false, pid: null });
      const revive = await http(sup.base, 'POST', '/v1/admin/nodes/n3/revive', { headers: auth });
      expect(revive.status).toBe(200);
      expect(revive.body).toMatchObject({ id: 'n3', respawned: true, running: true, pid: 999 });
      expect(calls).toEqual([
        ['n3', 'hard-kill'],
        ['*', 'list'],
        ['n3', 'respawn'],
      ]);
    });

    it('revive of a running process goes to the replica', async () => {
      const before = replicas.calls.length;
      const revive = await http(sup.base, 'POST', '/v1/admin/nodes/n1/revive', { headers: auth });
      expect(revive.body).toMatchObject({ id: 'n1', alive: true, pid: 4242 });
      expect(replicas.calls.slice(before).map((c) => c.data)).toEqual([{ action: 'revive' }]);
    });

    it('storage kill and restart go to the supervisor; without the admin token they are refused', async () => {
      expect((await http(sup.base, 'POST', '/v1/admin/nodes/n2/storage/kill')).status).toBe(401);
      const kill = await http(sup.base, 'POST', '/v1/admin/nodes/n2/storage/kill', { headers: auth });
      expect(kill.status).toBe(200);
      expect(kill.body).toMatchObject({ id: 'n2', storageRunning: false });
      const restart = await http(sup.base, 'POST', '/v1/admin/nodes/n2/storage/restart', { headers: auth });
      expect(restart.body).toMatchObject({ id: 'n2', storageRunning: true });
      expect((await http(sup.base, 'POST', '/v1/admin/nodes/n9/storage/kill', { headers: auth })).status).toBe(404);
    });

    it('a gateway whose SUPERVISOR_TOKEN the supervisor refuses → 502 (misconfigured), nothing done', async () => {
      const wrong = await startGateway(
        { BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', ADMIN_TOKEN: TOKEN, SUPERVISOR_URL: sup.config.supervisorUrl!, SUPERVISOR_TOKEN: 'not-sup-token' },
        { controlTimeoutMs: 700, supervisorTimeoutMs: 1000 },
      );
      try {
        const res = await http(wrong.base, 'POST', '/v1/admin/nodes/n1/kill?mode=hard', { headers: auth });
        expect(res.status).toBe(502);
        expect(res.body.detail).toContain('SUPERVISOR_TOKEN');
        expect(processes.get('n1')!.running).toBe(true);
      } finally {
        await wrong.close();
      }
    });

    it('the supervisor door refuses a caller without its token', async () => {
      const list = await fetch(`${sup.config.supervisorUrl}/v1/nodes`);
      expect(list.status).toBe(401);
      const forged = await fetch(`${sup.config.supervisorUrl}/v1/nodes/n1/hard-kill`, { method: 'POST', headers: { authorization: 'Bearer sup-tokeN' } });
      expect(forged.status).toBe(401);
      expect(processes.get('n1')!.running).toBe(true);
    });
  });

  it('a supervisor that is configured but never answers → 504 (the action may have happened), not 501', async () => {
    // Accepts the connection, then says nothing.
    const sockets = new Set<Socket>();
    const mute = createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const { port } = mute.address() as AddressInfo;
    const slow = await startGateway(
      { BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', ADMIN_TOKEN: TOKEN, SUPERVISOR_URL: `http://127.0.0.1:${port}`, SUPERVISOR_TOKEN: 'sup-token' },
      { controlTimeoutMs: 700, supervisorTimeoutMs: 1000 },
    );
    try {
      const started = Date.now();
      const res = await http(slow.base, 'POST', '/v1/admin/nodes/n1/kill?mode=hard', { headers: auth });
      expect(res.status).toBe(504);
      expect(res.body).toMatchObject({ status: 504, node: 'n1', detail: expect.stringContaining('may have happened') });
      expect(Date.now() - started).toBeGreaterThanOrEqual(650);
      expect((await http(slow.base, 'POST', '/v1/admin/nodes/n1/storage/kill', { headers: auth })).status).toBe(504);
    } finally {
      await slow.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => mute.close(r));
    }
  });

  it('storage kill without a supervisor → 501', async () => {
    const res = await http(gw.base, 'POST', '/v1/admin/nodes/n1/storage/kill', { headers: auth });
    expect(res.status).toBe(501);
  });

  describe('a control command straight onto the Redis (not through the gateway)', () => {
    const pattern = controlPattern(CLUSTER, 'n1');
    let client: ClientProxy;
    const ask = (msg: unknown): Promise<unknown> => firstValueFrom(client.send<unknown>(pattern, msg).pipe(timeout(5000)));
    const status = (corr: string) => ({ corr, req: { action: 'status' } });

    beforeAll(() => {
      client = ClientProxyFactory.create({ transport: Transport.REDIS, options: redisOptions(redis.url).options });
    });
    afterAll(() => client.close());

    it('is carried out when a keyholder sealed it for this incarnation of the replica, once', async () => {
      const tool = new FrameAuth({ ...testBusAuth('gw-tool'), cluster: CLUSTER, self: 'gw-tool' });
      const before = replicas.calls.length;
      const command = { frame: tool.seal(pattern, status('c-1'), ['n1'], fakes[0].auth.incarnation).toString('base64') };
      const answer = await ask(command);
      const opened = openEnvelope(tool, `${pattern}.reply`, answer);
      expect(opened).toMatchObject({ from: 'n1', body: { corr: 'c-1', status: { id: 'n1' } } });
      expect(replicas.calls.slice(before)).toEqual([{ pattern, data: { action: 'status' } }]);
      // The same command again: a replay.
      expect(await ask(command)).toEqual({ refused: 'replayed' });
      expect(replicas.calls.length).toBe(before + 1);
    });

    it('is refused, and not carried out, when forged, stale or not sealed at all', async () => {
      const before = { calls: replicas.calls.length, refused: replicas.refused.length };
      const inc = fakes[0].auth.incarnation;
      // A replica's key (n2's), speaking as a gateway.
      const intruder = new FrameAuth({ ...testBusAuth('n2'), cluster: CLUSTER, self: 'gw-intruder' });
      expect(await ask({ frame: intruder.seal(pattern, status('c-2'), [CLIENT_PRINCIPAL, 'n1'], inc).toString('base64') })).toEqual({ refused: 'badMac' });
      // A keyholder, but for another incarnation of n1 (or none).
      const tool = new FrameAuth({ ...testBusAuth('gw-tool2'), cluster: CLUSTER, self: 'gw-tool2' });
      expect(await ask({ frame: tool.seal(pattern, status('c-3'), ['n1'], inc - 1).toString('base64') })).toEqual({ refused: 'staleIncarnation' });
      expect(await ask({ frame: tool.seal(pattern, status('c-4'), ['n1']).toString('base64') })).toEqual({ refused: 'staleIncarnation' });
      // A command sealed for n1, sent on n2's pattern (moved).
      const moved = { frame: tool.seal(pattern, status('c-5'), ['n1', 'n2'], inc).toString('base64') };
      expect(await firstValueFrom(client.send<unknown>(controlPattern(CLUSTER, 'n2'), moved).pipe(timeout(5000)))).toEqual({ refused: 'badMac' });
      // The unauthenticated protocol of before, and junk.
      expect(await ask({ action: 'kill' })).toEqual({ refused: 'malformed' });
      expect(await ask({ frame: Buffer.from('junk').toString('base64') })).toEqual({ refused: 'malformed' });
      expect(await ask({ frame: tool.seal(pattern, 'no corr', ['n1'], inc).toString('base64') })).toEqual({ refused: 'malformed' });
      expect(replicas.calls.length).toBe(before.calls);
      expect(replicas.refused.slice(before.refused).map((r) => r.reason)).toEqual([
        'badMac',
        'staleIncarnation',
        'staleIncarnation',
        'badMac',
        'malformed',
        'malformed',
        'malformed',
      ]);
    });
  });

  it('keeps working after the bus Redis restarts', async () => {
    await redis.restart();
    await waitUntil(
      'admin call through the restarted Redis',
      async () => (await http(gw.base, 'POST', '/v1/admin/nodes/n1/heal', { headers: auth })).status === 200,
      15_000,
    );
  });
});

describe('admin API on a PBFT cluster without ADMIN_TOKEN', () => {
  let pbft: RunningGateway;
  let planes: ControlServer;
  let n4: FakeReplica;

  beforeAll(async () => {
    // A PBFT replica reports its view as `term`: 0, and no leader, as before any view change.
    n4 = await new FakeReplica({ url: redis.url, cluster: 'admin-pbft', id: 'n4', store: new FakeStore(), protocol: 'pbft', term: 0 }).start();
    planes = await startControlServer(redis.url, [{ replica: n4, handle: replica('n4') }]);
    // The PBFT keys (Ed25519) and the bus keys come from the harness's KEYS_DIR.
    pbft = await startGateway({ BUS_URL: redis.url, CLUSTER: 'admin-pbft', PROTOCOL: 'pbft' }, { controlTimeoutMs: 700 });
    await waitForReplicas(pbft, ['n4']);
  });
  afterAll(async () => {
    await pbft?.close();
    await planes?.close();
    await n4?.stop();
  });

  it('sets a byzantine behavior from the list, and refuses any other with 400', async () => {
    const ok = await http(pbft.base, 'POST', '/v1/admin/nodes/n4/byzantine', { body: { behavior: 'equivocate' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: 'n4', byzantine: 'equivocate' });
    expect(planes.calls.map((c) => c.data)).toEqual([{ action: 'byzantine', behavior: 'equivocate' }]);
    for (const body of [{ behavior: 'evil' }, {}, { behavior: 3 }]) {
      const res = await http(pbft.base, 'POST', '/v1/admin/nodes/n4/byzantine', { body });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ field: 'behavior', detail: expect.stringContaining('equivocate') });
    }
    const notAnObject = await http(pbft.base, 'POST', '/v1/admin/nodes/n4/byzantine', { body: '"none"' });
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.body).toMatchObject({ field: 'body', detail: 'body must be a JSON object, got string' });
    expect(planes.calls).toHaveLength(1);
  });

  it('a replica the gateway has not heard on the bus gets no command: 502 at once', async () => {
    // NODES is n1..n4 (the PBFT default), but only n4 is on the bus.
    const started = Date.now();
    const res = await http(pbft.base, 'POST', '/v1/admin/nodes/n1/kill');
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ node: 'n1', detail: expect.stringContaining('no authenticated beacon heard from n1') });
    expect(Date.now() - started).toBeLessThan(600);
  });

  it('reports the cluster with view instead of term', async () => {
    const c = await http(pbft.base, 'GET', '/v1/cluster');
    expect(c.body).toMatchObject({ protocol: 'pbft', leader: null, view: 0 });
    expect(c.body).not.toHaveProperty('term');
    expect(c.body.nodes).toHaveLength(4);
  });
});

describe('admin API against a rogue control plane on the Redis', () => {
  const ROGUE = 'admin-rogue';
  let gateway: RunningGateway;
  let fakes3: FakeReplica[];
  let planes: ControlServer;
  const status = (id: string): ControlStatus => controlStatus(id, { alive: false, pid: 1 });

  beforeAll(async () => {
    const store = new FakeStore();
    fakes3 = await Promise.all(['n1', 'n2', 'n3'].map((id) => new FakeReplica({ url: redis.url, cluster: ROGUE, id, store }).start()));
    planes = await startControlServer(redis.url, [
      // On n2's pattern: an answer as the unauthenticated protocol gave it, unsealed.
      { replica: fakes3[1], raw: () => status('n2') },
      // On n3's pattern: whoever holds n1's key reads the command (it is not secret), and answers it as n1.
      {
        replica: fakes3[2],
        raw: (msg) => {
          const { header, body } = splitFrame(Buffer.from((msg as { frame: string }).frame, 'base64'))!;
          const { corr } = unpackBody(body)!.value as { corr: string };
          const reply = fakes3[0].auth.seal(`${controlPattern(ROGUE, 'n3')}.reply`, { corr, status: status('n3') }, [CLIENT_PRINCIPAL], header.inc);
          return { frame: reply.toString('base64') };
        },
      },
    ]);
    gateway = await startGateway({ BUS_URL: redis.url, CLUSTER: ROGUE, NODES: 'n1,n2,n3', ADMIN_TOKEN: TOKEN }, { controlTimeoutMs: 1500 });
    await waitForReplicas(gateway, ['n1', 'n2', 'n3']);
  });
  afterAll(async () => {
    await gateway?.close();
    await planes?.close();
    await Promise.all((fakes3 ?? []).map((f) => f.stop()));
  });

  it('an unsealed answer is refused: 502, and nothing of it is passed on', async () => {
    const res = await http(gateway.base, 'POST', '/v1/admin/nodes/n2/kill', { headers: auth });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ node: 'n2', detail: expect.stringContaining('failed authentication (malformed)') });
    expect(res.text).not.toContain('"alive":false');
  });

  it("an answer sealed by another replica's key is refused: 502", async () => {
    const res = await http(gateway.base, 'POST', '/v1/admin/nodes/n3/kill', { headers: auth });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ node: 'n3', detail: expect.stringContaining('not for this command') });
    expect(planes.calls.map((c) => c.pattern)).toEqual([controlPattern(ROGUE, 'n2'), controlPattern(ROGUE, 'n3')]);
  });
});
