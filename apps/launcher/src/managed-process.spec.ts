import { spawn } from 'node:child_process';
import { ManagedProcess } from './managed-process';

jest.setTimeout(20_000);

// Real child processes: a node that sleeps "forever", and one that dies at once.
const sleeper = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
const crasher = () => spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
const policy = { initialBackoffMs: 50, maxBackoffMs: 400, resetAfterMs: 10_000 };

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ManagedProcess (the launcher supervisor)', () => {
  const procs: ManagedProcess[] = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop(100)));
  });
  function managed(spawnFn: () => ReturnType<typeof spawn>, log: string[] = []): ManagedProcess {
    const p = new ManagedProcess({ name: 'child', spawn: spawnFn }, (l) => log.push(l), policy);
    procs.push(p);
    return p;
  }

  it('restarts a child that was SIGKILLed from outside, and says so', async () => {
    const log: string[] = [];
    const p = managed(sleeper, log);
    await p.start();
    const first = p.pid!;
    process.kill(first, 'SIGKILL');
    await until(() => p.running && p.pid !== first);
    expect(p.restarts).toBe(1);
    expect(log[0]).toMatch(/child died \(SIGKILL\) after \d+ ms; restarting in 50 ms/);
  });

  it('keeps a child down after a deliberate kill() until start()', async () => {
    const p = managed(sleeper);
    await p.start();
    await p.kill();
    await new Promise((r) => setTimeout(r, 300));
    expect(p.running).toBe(false);
    expect(p.restarts).toBe(0);
    await p.start();
    expect(p.running).toBe(true);
  });

  it('backs off exponentially while a child keeps crashing', async () => {
    const log: string[] = [];
    const p = managed(crasher, log);
    await p.start().catch(() => undefined);
    await until(() => log.filter((l) => l.includes('restarting in')).length >= 4);
    const delays = log.filter((l) => l.includes('restarting in')).map((l) => Number(/restarting in (\d+)/.exec(l)![1]));
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
  });

  it('start() fails with the reason when the child dies before it is ready', async () => {
    const p = new ManagedProcess({ name: 'gateway', spawn: crasher, ready: () => new Promise(() => undefined) }, () => undefined, policy);
    procs.push(p);
    await expect(p.start()).rejects.toThrow(/gateway exited \(3\) while starting/);
  });
});
