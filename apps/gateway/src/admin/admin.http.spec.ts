import { RpcException } from '@nestjs/microservices';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPattern, ensureKeys, PBFT_CLIENT_ID, type ControlRequest, type ControlStatus, type SupervisorAction, type SupervisorStatus } from '@app/wire';
import type { Server } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { startSupervisorServer, UnknownNodeError } from '../../../launcher/src/supervisor-server';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { startControlServer, type ControlServer } from '../testing/control-server';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';

jest.setTimeout(30_000);

const CLUSTER = 'admin';
const TOKEN = 'let-me-in';
const auth = { Authorization: `Bearer ${TOKEN}` };

let redis: TestRedis;
let gw: RunningGateway;
let replicas: ControlServer;

/** A replica's control plane: applies the action to a status it keeps. */
function replica(id: string): (data: unknown) => ControlStatus {
  const status: ControlStatus = {
    id,
    alive: true,
    isolated: false,
    byzantine: 'none',
    role: 'follower',
    term: 1,
    leader: null,
    commitIndex: 0,
    appliedIndex: 0,
    pid: 4242,
  };
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
  // n3 has no control plane at all (its process is gone).
  replicas = await startControlServer(redis.url, {
    [controlPattern(CLUSTER, 'n1')]: replica('n1'),
    [controlPattern(CLUSTER, 'n2')]: replica('n2'),
  });
  gw = await startGateway({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', ADMIN_TOKEN: TOKEN }, { controlTimeoutMs: 700, supervisorTimeoutMs: 1000 });
});

afterAll(async () => {
  await gw?.close();
  await replicas?.close();
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
  const keysDir = mkdtempSync(join(tmpdir(), 'synod-gw-keys-'));

  beforeAll(async () => {
    ensureKeys(keysDir, ['n1', 'n2', 'n3', 'n4', PBFT_CLIENT_ID]);
    planes = await startControlServer(redis.url, { [controlPattern('admin-pbft', 'n4')]: replica('n4') });
    pbft = await startGateway({ BUS_URL: redis.url, CLUSTER: 'admin-pbft', PROTOCOL: 'pbft', KEYS_DIR: keysDir }, { controlTimeoutMs: 700 });
  });
  afterAll(async () => {
    await pbft?.close();
    await planes?.close();
    rmSync(keysDir, { recursive: true, force: true });
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

  it('reports the cluster with view instead of term', async () => {
    const c = await http(pbft.base, 'GET', '/v1/cluster');
    expect(c.body).toMatchObject({ protocol: 'pbft', leader: null, view: 0 });
    expect(c.body).not.toHaveProperty('term');
    expect(c.body.nodes).toHaveLength(4);
  });
});
