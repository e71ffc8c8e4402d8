import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { clusterForSuite, waitFor } from './support/cluster';

const CLI = join(__dirname, '..', 'dist', 'tools', 'synodctl', 'main.js');

/** synodctl against a real Raft cluster: each command, its output and its exit status. */
describe('synodctl', () => {
  const cluster = clusterForSuite(['--protocol', 'raft']);

  const ctl = (...args: string[]) => {
    const c = cluster();
    const r = spawnSync(process.execPath, [CLI, '--endpoints', `http://127.0.0.1:1,${c.url}`, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };

  it('put, get, cas, range, del', () => {
    expect(ctl('put', 'ctl/a', 'one')).toMatchObject({ code: 0, out: expect.stringMatching(/^OK \(revision \d+\)$/) });
    expect(ctl('get', 'ctl/a')).toMatchObject({ code: 0, out: expect.stringMatching(/^ctl\/a = one \(createRevision \d+, modRevision \d+, version 1\)$/) });
    expect(JSON.parse(ctl('get', 'ctl/a', '--output', 'json').out)).toMatchObject({ key: 'ctl/a', value: 'one', version: 1 });
    expect(ctl('cas', 'ctl/a', 'nope', 'two')).toMatchObject({ code: 1, out: 'not swapped: the value is "one"' });
    expect(ctl('cas', 'ctl/a', 'one', 'two').code).toBe(0);
    expect(ctl('cas', '--absent', 'ctl/b', 'new').code).toBe(0);
    expect(ctl('range', 'ctl/')).toMatchObject({ code: 0, out: 'ctl/a = two\nctl/b = new' });
    expect(ctl('range', 'ctl/', '--limit', '1').out).toBe('ctl/a = two');
    expect(ctl('del', 'ctl/a')).toMatchObject({ code: 0, out: expect.stringMatching(/^deleted/) });
    expect(ctl('get', 'ctl/a')).toMatchObject({ code: 1, out: 'ctl/a: not found' });
  }, 60_000);

  it('status and admin actions', async () => {
    const c = cluster();
    const status = ctl('status');
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/^protocol raft, leader n\d/);
    expect(status.out.split('\n')).toHaveLength(4);
    const leader = await c.waitForLeader();
    const follower = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    expect(ctl('admin', 'isolate', follower)).toMatchObject({ code: 0, out: `isolate ${follower}: OK` });
    await waitFor(
      async () => ((await c.clusterState()).nodes.find((n: { id: string }) => n.id === follower)?.isolated ? true : null),
      10_000,
      'the isolation to show',
    );
    expect(ctl('admin', 'heal', follower).code).toBe(0);
  }, 60_000);

  it('membership, leadership transfer and the ledger', async () => {
    const c = cluster();
    const list = ctl('member', 'list');
    expect(list.code).toBe(0);
    expect(list.out.split('\n').filter((l) => / voter/.test(l))).toHaveLength(3);
    const leader = await c.waitForLeader();
    const to = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    expect(ctl('leader', 'transfer', to)).toMatchObject({ code: 0, out: `leader ${to} (was ${leader})` });
    expect(ctl('member', 'remove', 'n99')).toMatchObject({ code: 1, err: expect.stringContaining('404') });
    expect(ctl('member', 'explode', 'n1')).toMatchObject({ code: 2, err: expect.stringContaining('unknown member command') });
    await c.waitForConvergence(30_000);
    const verify = await waitFor(
      async () => {
        const v = ctl('ledger', 'verify');
        return v.code === 0 ? v : null;
      },
      30_000,
      'the ledger verified',
    );
    expect(verify.out).toMatch(/^ledger intact and agreeing on 3 replicas/);
  }, 90_000);

  it('bad usage: exit 2 with the reason; --help: exit 0; an error of the cluster: exit 1 naming the field', () => {
    expect(ctl('--help')).toMatchObject({ code: 0, out: expect.stringContaining('usage: synodctl') });
    expect(ctl('frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining('unknown command "frobnicate"') });
    expect(ctl('put', 'only-a-key')).toMatchObject({ code: 2, err: expect.stringContaining('put takes <key> <value>') });
    expect(ctl('admin', 'explode', 'n1')).toMatchObject({ code: 2, err: expect.stringContaining('unknown admin action') });
    expect(ctl('put', 'ctl/big', 'v'.repeat(70_000))).toMatchObject({ code: 1, err: expect.stringContaining('413') });
    const dead = spawnSync(process.execPath, [CLI, '--endpoints', 'http://127.0.0.1:1', '--timeout', '1', 'get', 'x'], { encoding: 'utf8', timeout: 60_000 });
    expect(dead.status).toBe(3);
    expect(dead.stderr).toContain('no gateway could serve GET');
  }, 90_000);
});
