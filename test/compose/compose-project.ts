import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '../support/cluster';

// The suite's shared helpers, re-exported so compose.e2e-spec.ts keeps importing them from here.
export { freePort } from '../support/redis-server';
export { waitFor };

/** The repository root: where docker-compose.yml and the Dockerfile are. */
export const ROOT = join(__dirname, '..', '..');

/** `docker compose` (the v2 plugin) when the CLI has it, else `docker-compose` (v1); null when neither runs. */
export function composeCommand(): string[] | null {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  return null;
}

/** Why compose cannot run here (no CLI, no engine), or null when it can. */
export function dockerProblem(cmd: string[] | null): string | null {
  if (cmd === null) return 'neither `docker compose` nor `docker-compose` is installed';
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 });
  if (info.error) return `docker: ${info.error.message}`;
  if (info.status !== 0) return `no docker engine answers (${(info.stderr || info.stdout).trim().split('\n').pop()})`;
  return null;
}

export interface Reply {
  status: number;
  body: any;
}

export interface Run {
  code: number;
  out: string;
}

export interface Topology {
  protocol: 'raft' | 'pbft';
  nodes: string[];
}

/**
 * One compose project (a unique `-p` name, the gateway on its own host port) driven through the
 * real CLI. The topology's variables (PROTOCOL, NODES, BUS_URLS, profile) are those of the last
 * `up`, so that `ps`, `exec` and `down` see the same file.
 */
export class ComposeProject {
  private topology: Topology = { protocol: 'raft', nodes: ['n1', 'n2', 'n3'] };

  constructor(
    readonly name: string,
    readonly port: number,
    readonly adminToken: string,
    private readonly cmd: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Runs one compose command; rejects with its output when it exits non-zero (unless allowFail). */
  compose(args: string[], timeoutMs: number, opts: { allowFail?: boolean; allProfiles?: boolean; env?: Record<string, string> } = {}): Promise<Run> {
    const profiles = opts.allProfiles || this.topology.protocol === 'pbft' ? ['--profile', 'pbft'] : [];
    const full = [...this.cmd.slice(1), '-p', this.name, ...profiles, ...args];
    const env = { ...process.env, ...this.variables(), ...opts.env };
    return new Promise((resolve, reject) => {
      const child = spawn(this.cmd[0], full, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const run = { code: code ?? -1, out };
        if (run.code === 0 || opts.allowFail) resolve(run);
        else
          reject(
            new Error(
              `${this.cmd.join(' ')} ${full.slice(this.cmd.length - 1).join(' ')} ${signal ? `killed (${signal}, over ${timeoutMs} ms)` : `exited ${code}`}:\n${tail(out, 40)}`,
            ),
          );
      });
    });
  }

  /** Starts the topology detached, without building (the image is built once, beforehand). */
  async up(topology: Topology): Promise<void> {
    this.topology = topology;
    await this.compose(['up', '-d', '--no-build'], 300_000);
  }

  /** Stops and removes every container, network and volume of the project; never throws. */
  async down(): Promise<Run> {
    // Every profile: pbft's extra replica and Redis are removed whatever the last `up` was.
    return this.compose(['down', '-v', '--remove-orphans', '-t', '5'], 180_000, { allowFail: true, allProfiles: true }).catch((err) => ({
      code: -1,
      out: String(err),
    }));
  }

  async containerId(service: string): Promise<string> {
    const id = (await this.compose(['ps', '-q', service], 30_000)).out.trim().split('\n').pop() ?? '';
    if (!/^[0-9a-f]{12,}$/.test(id)) throw new Error(`no container for service ${service} (ps said ${JSON.stringify(id)})`);
    return id;
  }

  /** `docker inspect` of one container: the fields the tests read. */
  async inspect(service: string): Promise<{ pid: number; running: boolean; restartCount: number; health: string | null }> {
    const id = await this.containerId(service);
    const r = spawnSync('docker', ['inspect', '-f', '{{json .State}}|{{.RestartCount}}', id], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`docker inspect ${id}: ${r.stderr}`);
    const [stateJson, restarts] = r.stdout.trim().split('|');
    const state = JSON.parse(stateJson);
    return { pid: state.Pid, running: state.Running, restartCount: Number(restarts), health: state.Health?.Status ?? null };
  }

  /** Recent log lines of every service, for a failure's message. */
  async logs(lines = 40): Promise<string> {
    const r = await this.compose(['logs', '--no-color', '--tail', String(lines)], 60_000, { allowFail: true }).catch((e) => ({ out: String(e) }));
    return r.out;
  }

  async http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(this.url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed };
  }

  admin(path: string, token = this.adminToken): Promise<Reply> {
    return this.http('POST', `/v1/admin${path}`, undefined, token ? { authorization: `Bearer ${token}` } : {});
  }

  cluster(): Promise<Reply> {
    return this.http('GET', '/v1/cluster');
  }

  /** The cluster state once a leader (primary) is known and every listed node is alive. */
  waitForLeader(ms: number, alive = this.topology.nodes): Promise<any> {
    return waitFor(
      async () => {
        const r = await this.cluster();
        if (r.status !== 200 || !r.body.leader) return null;
        const up = new Set(r.body.nodes.filter((n: any) => n.alive).map((n: any) => n.id));
        return alive.every((id) => up.has(id)) ? r.body : null;
      },
      ms,
      `a leader and ${alive.join(',')} alive in /v1/cluster`,
    );
  }

  /** A write that may need a retry while a leader is being elected; resolves with the 200 reply. */
  writeEventually(key: string, value: string, ms: number): Promise<Reply> {
    return waitFor(
      async () => {
        const r = await this.http('PUT', `/v1/kv/${encodeURIComponent(key)}`, { value });
        return r.status === 200 ? r : null;
      },
      ms,
      `PUT ${key} to answer 200`,
    );
  }

  private variables(): Record<string, string> {
    const { protocol, nodes } = this.topology;
    return {
      PROTOCOL: protocol,
      NODES: nodes.join(','),
      BUS_URLS: nodes.map((id) => `${id}=redis://redis-${id}:6379`).join(','),
      GATEWAY_PORT: String(this.port),
      ADMIN_TOKEN: this.adminToken,
    };
  }
}

function tail(s: string, lines: number): string {
  return s.trimEnd().split('\n').slice(-lines).join('\n');
}
