import { randomBytes } from 'node:crypto';
import { ComposeProject, composeCommand, dockerProblem, freePort, waitFor } from './compose-project';

/**
 * docker-compose.yml for real: the image built once from the Dockerfile, the Raft topology up,
 * a leader, writes and reads through the published gateway port, admin kill/revive, a replica
 * container crashed from the host and brought back by its restart policy, then the PBFT profile.
 * Needs a docker engine (`../shared/tools/docker-standins.sh` starts one and builds stand-in base
 * images where no registry answers). Without one the suite is skipped with the reason, unless
 * SYNOD_COMPOSE_E2E=require (CI), where that is a failure.
 */
const cmd = composeCommand();
const problem = dockerProblem(cmd);
const required = process.env.SYNOD_COMPOSE_E2E === 'require';
if (problem && !required) {
  process.stderr.write(`\ncompose e2e SKIPPED: ${problem}. Start an engine with ../shared/tools/docker-standins.sh (CI sets SYNOD_COMPOSE_E2E=require).\n\n`);
}

(problem && !required ? describe.skip : describe)('docker compose: the cluster in containers', () => {
  let p: ComposeProject;

  /** On failure, the services' recent logs ride along with the assertion. */
  async function withLogs(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      (err as Error).message += `\n--- compose logs (tail) ---\n${await p.logs()}`;
      throw err;
    }
  }

  beforeAll(async () => {
    if (problem) throw new Error(`SYNOD_COMPOSE_E2E=require, but ${problem}`);
    p = new ComposeProject(`synode2e${process.pid}`, await freePort(), randomBytes(16).toString('hex'), cmd as string[]);
    await p.down(); // a leftover of an earlier run with the same pid
    // The one image build: only the `keys` service has `build:`; every `up` below uses --no-build.
    await p.compose(['build', 'keys'], 1_200_000);
  }, 1_260_000);

  afterAll(async () => {
    if (!p) return;
    const r = await p.down();
    if (r.code !== 0) process.stderr.write(`compose down failed:\n${r.out}\n`);
  }, 200_000);

  it('refuses to start without an ADMIN_TOKEN: the admin API is never left open', async () => {
    const r = await p.compose(['config', '-q'], 60_000, { allowFail: true, env: { ADMIN_TOKEN: '' } });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('ADMIN_TOKEN');
  }, 90_000);

  it('Raft: up, a leader, a write and a read through the published port', async () => {
    await p.up({ protocol: 'raft', nodes: ['n1', 'n2', 'n3'] });
    await withLogs(async () => {
      const st = await p.waitForLeader(120_000);
      expect(st.protocol).toBe('raft');
      expect(st.nodes.map((n: any) => n.id).sort()).toEqual(['n1', 'n2', 'n3']);

      const put = await p.writeEventually('compose/greeting', 'hello', 20_000);
      expect(put.body).toEqual({ key: 'compose/greeting', value: 'hello', revision: expect.any(Number) });
      const got = await p.http('GET', '/v1/kv/compose%2Fgreeting');
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ key: 'compose/greeting', value: 'hello', revision: put.body.revision });
    });
  }, 300_000);

  it('healthchecks pass, and the replicas answer HTTP inside the compose network', async () => {
    await withLogs(async () => {
      // Every long-lived container's healthcheck passes (the gateway's and each replica's /health/live).
      for (const s of ['gateway', 'n1', 'n2', 'n3', 'redis-n1', 'redis-queue']) {
        await waitFor(async () => (await p.inspect(s)).health === 'healthy', 60_000, `${s} healthy`);
      }
      // The replicas' HTTP listens off loopback, so a scraper in the compose network reaches it.
      const probe = "fetch('http://n2:8080/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";
      expect((await p.compose(['exec', '-T', 'gateway', 'node', '-e', probe], 60_000, { allowFail: true })).code).toBe(0);
    });
  }, 120_000);

  it('every Redis requires a login: the bus user only publishes, a replica opens only its own Redis', async () => {
    await withLogs(async () => {
      // No login at all: refused (the canary in test/redis-acl.e2e-spec.ts shows the probe tells).
      for (const s of ['redis-n1', 'redis-n2', 'redis-queue']) {
        const r = await p.compose(['exec', '-T', s, 'redis-cli', 'ping'], 60_000, { allowFail: true });
        expect(`${s}: ${r.out.trim()}`).toContain(`${s}: NOAUTH`);
      }
      // With the passwords the keys job made (in the keys volume, which the Synod containers mount).
      const script = `
        const Redis = require('ioredis');
        const pw = require('/keys/redis.json').passwords;
        const ask = async (host, user, ...cmd) => {
          const r = new Redis({ host, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
          r.on('error', () => {});
          try { await r.connect(); await r.call('AUTH', user, pw[user]); return String(await r.call(...cmd)); }
          catch (e) { return e.message; } finally { r.disconnect(); }
        };
        (async () => process.stdout.write(JSON.stringify({
          busPublish: await ask('redis-n2', 'bus', 'PUBLISH', 'synod:synod:n:n2', 'not a frame'),
          busGet: await ask('redis-n2', 'bus', 'GET', 'anything'),
          busKeys: await ask('redis-n2', 'bus', 'KEYS', '*'),
          busElsewhere: await ask('redis-n2', 'bus', 'PUBLISH', 'elsewhere', 'x'),
          n1OnN2: await ask('redis-n2', 'n1', 'PING'),
          n2OnN2: await ask('redis-n2', 'n2', 'DBSIZE'),
          busOnQueue: await ask('redis-queue', 'bus', 'PING'),
        })))();`;
      const r = await p.compose(['exec', '-T', 'gateway', 'node', '-e', script], 60_000);
      const got = JSON.parse(r.out.trim().split('\n').pop()!);
      expect(got).toEqual({
        busPublish: expect.stringMatching(/^[1-9]\d*$/), // n2 and the gateway listen there
        busGet: expect.stringMatching(/^NOPERM/),
        busKeys: expect.stringMatching(/^NOPERM/),
        busElsewhere: expect.stringMatching(/^NOPERM/),
        n1OnN2: expect.stringMatching(/^WRONGPASS/),
        n2OnN2: expect.stringMatching(/^[1-9]\d*$/), // its log and hard state are there
        busOnQueue: expect.stringMatching(/^WRONGPASS/),
      });
    });
  }, 120_000);

  it('admin kill and revive of a replica, behind the bearer token', async () => {
    await withLogs(async () => {
      expect((await p.admin('/nodes/n1/kill', '')).status).toBe(401);
      expect((await p.admin('/nodes/n1/kill', 'not-the-token')).status).toBe(401);

      const kill = await p.admin('/nodes/n1/kill');
      expect(kill.status).toBe(200);
      expect(kill.body).toMatchObject({ id: 'n1', alive: false });
      await waitFor(async () => (await p.cluster()).body.nodes.find((n: any) => n.id === 'n1')?.alive === false, 15_000, 'n1 dead in /v1/cluster');
      // Two of three replicas are a quorum: writes go on.
      const put = await p.writeEventually('compose/while-n1-down', 'v1', 20_000);

      const revive = await p.admin('/nodes/n1/revive');
      expect(revive.status).toBe(200);
      expect(revive.body).toMatchObject({ id: 'n1' });
      // Back, and caught up: it applied the write it missed.
      await waitFor(
        async () => {
          const n1 = (await p.cluster()).body.nodes.find((n: any) => n.id === 'n1');
          return n1?.alive === true && n1.appliedIndex >= put.body.revision;
        },
        30_000,
        'n1 alive again and caught up',
      );
    });
  }, 120_000);

  it('a replica container crashed by SIGKILL from the host comes back through its restart policy', async () => {
    await withLogs(async () => {
      const leader = (await p.waitForLeader(30_000)).leader as string;
      const before = await p.inspect(leader);
      expect(before.running).toBe(true);
      // SIGKILL of the container's main process is a crash; `docker kill` would count as a manual
      // stop, which `unless-stopped` rightly does not undo.
      process.kill(before.pid, 'SIGKILL');

      // The other two elect a leader and take writes while the container restarts.
      const put = await p.writeEventually('compose/after-crash', 'v2', 30_000);
      const after = await waitFor(
        async () => {
          const s = await p.inspect(leader);
          return s.running && s.restartCount > before.restartCount && s.pid !== before.pid ? s : null;
        },
        30_000,
        `${leader} restarted by docker`,
      );
      expect(after.restartCount).toBe(before.restartCount + 1);

      await waitFor(
        async () => {
          const n = (await p.cluster()).body.nodes.find((x: any) => x.id === leader);
          return n?.alive === true && n.appliedIndex >= put.body.revision;
        },
        60_000,
        `${leader} alive again and caught up in /v1/cluster`,
      );
      expect((await p.writeEventually('compose/after-restart', 'v3', 20_000)).status).toBe(200);
      // Nothing acknowledged was lost across the kills.
      for (const [key, value] of [
        ['compose/greeting', 'hello'],
        ['compose/while-n1-down', 'v1'],
        ['compose/after-crash', 'v2'],
      ]) {
        expect((await p.http('GET', `/v1/kv/${encodeURIComponent(key)}`)).body).toMatchObject({ key, value });
      }
    });
  }, 180_000);

  it('PBFT profile: four replicas, a primary, a write and a read', async () => {
    await p.down();
    await p.up({ protocol: 'pbft', nodes: ['n1', 'n2', 'n3', 'n4'] });
    await withLogs(async () => {
      const st = await p.waitForLeader(120_000);
      expect(st.protocol).toBe('pbft');
      expect(st.nodes.map((n: any) => n.id).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
      const put = await p.writeEventually('compose/pbft', 'signed', 30_000);
      expect(put.body).toMatchObject({ key: 'compose/pbft', value: 'signed' });
      const got = await p.http('GET', '/v1/kv/compose%2Fpbft');
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ key: 'compose/pbft', value: 'signed', revision: put.body.revision });
    });
  }, 300_000);
});
