import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(60_000);

const LAUNCHER = join(__dirname, '..', 'dist', 'apps', 'launcher', 'src', 'main.js');

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAUNCHER, ...args], { env: { ...process.env, REDIS_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

describe('launcher start-up checks', () => {
  it('fails fast with a clear message when the gateway port is taken, and never claims to be up', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    const data = mkdtempSync(join(tmpdir(), 'synod-launcher-'));
    try {
      const started = Date.now();
      const r = await run(['--port', String(port), '--data', data], 30_000);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(r.out).not.toContain('SYNOD_READY');
      expect(r.out).not.toContain('Synod is up');
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      squatter.close();
      rmSync(data, { recursive: true, force: true });
    }
  });

  it("fails fast, with the child's own words, when a replica would refuse its configuration", async () => {
    const data = mkdtempSync(join(tmpdir(), 'synod-launcher-'));
    try {
      const r = await run(['--port', '0', '--data', data, '--node-env', 'TICK_MS=abc'], 30_000);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/refuse their configuration[\s\S]*TICK_MS/);
      expect(r.out).not.toContain('SYNOD_READY');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('Ctrl-C stops everything without the supervisor restarting what the signal reached first', async () => {
    const data = mkdtempSync(join(tmpdir(), 'synod-launcher-'));
    try {
      const child = spawn(process.execPath, [LAUNCHER, '--port', '0', '--data', data], {
        env: { ...process.env, REDIS_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const deadline = Date.now() + 40_000;
      while (!out.includes('SYNOD_READY') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('SYNOD_READY');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      process.kill(-child.pid!, 'SIGINT'); // the whole process group, as a terminal's Ctrl-C does
      expect(await exited).toBe(0);
      const after = out.slice(out.indexOf('stopping'));
      expect(after).not.toMatch(/restarting in|restarted/);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('--help prints the usage and exits 0; a bad flag exits 2 with the usage', async () => {
    const help = await run(['--help'], 10_000);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/usage: npm start/);
    const bad = await run(['--nodes', 'many'], 10_000);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--nodes/);
  });
});
