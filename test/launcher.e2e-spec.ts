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

  it('--help prints the usage and exits 0; a bad flag exits 2 with the usage', async () => {
    const help = await run(['--help'], 10_000);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/usage: npm start/);
    const bad = await run(['--nodes', 'many'], 10_000);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--nodes/);
  });
});
