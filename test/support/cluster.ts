import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterInfo } from '../../apps/launcher/src/launcher';
import { withRedisCredentials } from '../../apps/launcher/src/redis-secrets';

const ROOT = join(__dirname, '..', '..');
const LAUNCHER = join(ROOT, 'dist', 'apps', 'launcher', 'src', 'main.js');

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * A real local cluster started through the launcher (`npm start`'s code path): Redis servers,
 * replica processes and the gateway, each a process of its own, on free ports and a temp data dir.
 */
export class TestCluster {
  info!: ClusterInfo;
  private child!: ChildProcess;
  private output = '';
  private dataDir = mkdtempSync(join(tmpdir(), 'synod-e2e-'));

  constructor(
    private readonly args: string[] = [],
    private readonly env: Record<string, string> = {},
  ) {}

  static async start(args: string[] = [], env: Record<string, string> = {}): Promise<TestCluster> {
    const c = new TestCluster(args, env);
    await c.boot();
    return c;
  }

  /** The launcher's and its children's latest output: what a failure message needs when the cluster misbehaves. */
  outputTail(chars = 6_000): string {
    return this.output.slice(-chars);
  }

  private async boot(): Promise<void> {
    // One gateway process unless a test asks for more: the default (auto) follows the machine's cores.
    const workers = this.args.includes('--gateway-workers') ? [] : ['--gateway-workers', '1'];
    this.child = spawn(process.execPath, [LAUNCHER, '--port', '0', '--data', this.dataDir, '--cluster', `e2e${process.pid}`, ...workers, ...this.args], {
      env: { ...process.env, REDIS_URL: '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.info = await new Promise<ClusterInfo>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`cluster did not start:\n${this.output}`)), 60_000);
      const onData = (d: Buffer) => {
        this.output += d.toString();
        if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
        const m = /SYNOD_READY (.*)\n/.exec(this.output);
        if (m) {
          clearTimeout(t);
          // SYNOD_READY's Redis URLs are redacted: the tests get them with the passwords (keys dir).
          resolve(withRedisCredentials(JSON.parse(m[1])));
        }
      };
      this.child.stdout!.on('data', onData);
      this.child.stderr!.on('data', onData);
      this.child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`launcher exited with ${code}:\n${this.output}`));
      });
    });
  }

  get url(): string {
    return this.info.gateway;
  }

  /** The launcher's process (the parent of the gateway and the replicas). */
  get launcherPid(): number {
    return this.child.pid!;
  }

  logs(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
        this.child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        this.child.kill('SIGINT');
      });
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async http<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const res = await fetch(this.url + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  put(key: string, value: string, headers: Record<string, string> = {}) {
    return this.http('PUT', `/v1/kv/${encodeURIComponent(key)}`, { value }, headers);
  }

  get(key: string, consistency: 'linearizable' | 'stale' = 'linearizable') {
    return this.http('GET', `/v1/kv/${encodeURIComponent(key)}?consistency=${consistency}`);
  }

  admin(id: string, action: string, query = '', body?: unknown) {
    return this.http('POST', `/v1/admin/nodes/${id}/${action}${query}`, body);
  }

  async clusterState(): Promise<any> {
    return (await this.http('GET', '/v1/cluster')).body;
  }

  /** Wait until some node is leader (optionally not `exclude`) and return its id. */
  async waitForLeader(exclude: string[] = [], timeoutMs = 20_000): Promise<string> {
    return waitFor(
      async () => {
        const s = await this.clusterState();
        return s.leader && !exclude.includes(s.leader) ? (s.leader as string) : null;
      },
      timeoutMs,
      'a leader',
    );
  }

  /**
   * Put until one succeeds (after faults): the time it took is the unavailability window. Every
   * attempt carries the same Idempotency-Key (by default a one-shot key made of key and value).
   */
  async putUntilOk(key: string, value: string, timeoutMs = 30_000, idempotencyKey = `${key}=${value}`): Promise<HttpResult> {
    return waitFor(
      async () => {
        const r = await this.put(key, value, { 'idempotency-key': idempotencyKey });
        return r.status === 200 ? r : null;
      },
      timeoutMs,
      `a successful put of ${key}`,
    );
  }

  /** GET /v1/ledger/verify until every replica's chain checks out and the heads agree; its answer. */
  async ledgerVerified(timeoutMs = 30_000): Promise<any> {
    return waitFor(
      async () => {
        const v = await this.http('GET', '/v1/ledger/verify');
        return v.body.ok ? v.body : null;
      },
      timeoutMs,
      'the ledger verified on every replica',
    );
  }

  /** Wait until every alive node has applied the same index (convergence). */
  /** Every live replica at one applied index; `include` names replicas that must be live and in it
   *  (a replica just healed or revived is not "alive" until its next beacon reaches the gateway). */
  async waitForConvergence(timeoutMs = 20_000, include: string[] = []): Promise<any> {
    return waitFor(
      async () => {
        const s = await this.clusterState();
        const alive = s.nodes.filter((n: any) => n.alive);
        if (!include.every((id) => alive.some((n: any) => n.id === id))) return null;
        const idx = new Set(alive.map((n: any) => n.appliedIndex));
        return alive.length > 0 && idx.size === 1 ? s : null;
      },
      timeoutMs,
      'convergence',
    );
  }
}

/**
 * A cluster started (with a leader) before the suite's tests and stopped after them: the suite
 * calls the returned function for it.
 */
export function clusterForSuite(args: string[], env: Record<string, string> = {}): () => TestCluster {
  let c: TestCluster | undefined;
  beforeAll(async () => {
    c = await TestCluster.start(args, env);
    const started = c;
    await started.waitForLeader().catch((err: Error) => {
      throw new Error(`${err.message}\n--- the cluster's output (tail):\n${started.outputTail()}`);
    });
  }, 90_000);
  afterAll(async () => {
    await c?.stop();
  }, 30_000);
  return () => {
    if (c === undefined) throw new Error('the suite cluster did not start');
    return c;
  };
}

export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
