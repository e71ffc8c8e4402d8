import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { clusterForSuite, waitFor } from './support/cluster';

/**
 * examples/coordinated-app against a real cluster: three instances elect one leader, a new one
 * (with a higher fencing token) after the leader is SIGKILLed, and all follow the configuration.
 */

const MAIN = join(__dirname, '..', 'dist', 'examples', 'coordinated-app', 'src', 'main.js');

interface App {
  name: string;
  proc: ChildProcess;
  port: number;
}

function startApp(name: string, endpoint: string): Promise<App> {
  const proc = spawn(process.execPath, [MAIN], {
    env: { ...process.env, SYNOD_ENDPOINTS: endpoint, INSTANCE: name, LEASE_SECONDS: '2', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /EXAMPLE_READY (.*)\n/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ name, proc, port: JSON.parse(m[1]).port });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
  });
}

async function status(app: App): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${app.port}/status`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}

/** The one leader among `apps`, once exactly one says so (twice, 300 ms apart). */
async function oneLeader(apps: App[]): Promise<{ app: App; fencingToken: number }> {
  const leaders = async (): Promise<Array<{ app: App; fencingToken: number }>> => {
    const all = await Promise.all(apps.map(async (app) => ({ app, s: await status(app) })));
    return all.filter((x) => x.s.leader).map((x) => ({ app: x.app, fencingToken: x.s.fencingToken }));
  };
  return waitFor(
    async () => {
      const first = await leaders();
      if (first.length !== 1) return null;
      await new Promise((r) => setTimeout(r, 300));
      const second = await leaders();
      return second.length === 1 && second[0].app === first[0].app ? first[0] : null;
    },
    30_000,
    'exactly one leader',
  );
}

describe('examples/coordinated-app: three instances, one leader, live configuration', () => {
  const cluster = clusterForSuite(['--protocol', 'raft']);
  const apps: App[] = [];
  afterAll(() => {
    for (const a of apps) a.proc.kill('SIGKILL');
  });

  it('elects exactly one leader, replaces a killed one with a higher fencing token, and every instance follows the configuration', async () => {
    const c = cluster();
    for (const name of ['app-1', 'app-2', 'app-3']) apps.push(await startApp(name, c.url));

    const first = await oneLeader(apps);
    expect(first.fencingToken).toBeGreaterThan(0);

    expect((await c.http('PUT', '/v1/kv/example%2Fconfig%2Fgreeting', { value: { text: 'hello', n: 1 } })).status).toBe(200);
    await waitFor(
      // Compared field by field: fetch's JSON comes from another realm than the test's literals.
      async () =>
        (await Promise.all(apps.map(status))).every(
          (s) => Object.keys(s.config).join() === 'greeting' && s.config.greeting.text === 'hello' && s.config.greeting.n === 1,
        ),
      15_000,
      'every instance sees the new configuration',
    );

    first.app.proc.kill('SIGKILL');
    const rest = apps.filter((a) => a !== first.app);
    const second = await oneLeader(rest);
    expect(second.app).not.toBe(first.app);
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);

    expect((await c.http('DELETE', '/v1/kv/example%2Fconfig%2Fgreeting')).status).toBe(200);
    await waitFor(async () => (await Promise.all(rest.map(status))).every((s) => Object.keys(s.config).length === 0), 15_000, 'the deletion seen by all');
  }, 120_000);
});
