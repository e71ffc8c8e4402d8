import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A 3-member etcd on this machine for `npm run bench -- --vs etcd`: the same client and workloads
 * against etcd's HTTP JSON gateway (v3 API; a range is linearizable by default, every write is
 * fsync'd), so that each ratio comes from one run on one machine. Needs `etcd` on PATH
 * (Debian: `apt-get install etcd-server etcd-client`).
 */
export function etcdAvailable(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface EtcdCluster {
  /** A member's client port (any member: a follower forwards to the leader, as Synod's gateway does). */
  port: number;
  stop(): Promise<void>;
}

export async function startEtcd(members = 3): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-etcd-'));
  const names = Array.from({ length: members }, (_, i) => `e${i + 1}`);
  const ports = await Promise.all(names.map(async () => ({ client: await freePort(), peer: await freePort() })));
  const initial = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i].peer}`).join(',');
  const procs: ChildProcess[] = names.map((name, i) =>
    spawn(
      'etcd',
      [
        `--name=${name}`,
        `--data-dir=${join(dir, name)}`,
        `--listen-client-urls=http://127.0.0.1:${ports[i].client}`,
        `--advertise-client-urls=http://127.0.0.1:${ports[i].client}`,
        `--listen-peer-urls=http://127.0.0.1:${ports[i].peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports[i].peer}`,
        `--initial-cluster=${initial}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=bench-${process.pid}`,
        '--log-level=error',
      ],
      { stdio: 'ignore' },
    ),
  );
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const port = ports[0].client;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/v3/kv/put`, { method: 'POST', body: etcdPutBody('bench-ready', '1'), signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return { port, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error('etcd did not accept a write within 30 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

function etcdPutBody(key: string, value: string): string {
  return `{"key":"${b64(key)}","value":"${b64(value)}"}`;
}

function post(path: string, body: string): Buffer {
  return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export const etcdPutRequest = (key: string, value: string): Buffer => post('/v3/kv/put', etcdPutBody(key, value));
export const etcdGetRequest = (key: string): Buffer => post('/v3/kv/range', `{"key":"${b64(key)}"}`);
