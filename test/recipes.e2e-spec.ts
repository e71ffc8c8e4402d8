import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { SynodClient, type Leader, type Leadership, type Lock } from '@app/client';
import { clusterForSuite, type TestCluster, waitFor } from './support/cluster';

const CLI = join(__dirname, '..', 'dist', 'tools', 'synodctl', 'main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The resource a lock protects, as it must be to be safe with one (Kleppmann; Jepsen etcd 3.4.3): it
 * remembers the highest fencing token it has seen and refuses a write with a lower one, so that a
 * holder that lost its lock without noticing (a pause longer than its TTL) cannot write after the
 * next holder did. Its log is what the tests read: who wrote what, in order.
 */
class FencedResource {
  private highest = 0;
  readonly accepted: Array<{ token: number; holder: string; mark: 'start' | 'end' }> = [];
  readonly refused: Array<{ token: number; holder: string; mark: 'start' | 'end'; highest: number }> = [];

  write(token: number, holder: string, mark: 'start' | 'end'): boolean {
    if (token < this.highest) {
      this.refused.push({ token, holder, mark, highest: this.highest });
      return false;
    }
    this.highest = token;
    this.accepted.push({ token, holder, mark });
    return true;
  }
}

/** Whether a promise has settled, without waiting for it. */
function tracked<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const promise = p.finally(() => (done = true));
  return { promise, settled: () => done };
}

/**
 * The SDK's recipes (libs/client: lease handles, locks with fencing tokens, elections) and
 * synodctl's lease, lock and elect commands, on real clusters of both protocols.
 */
describe.each([
  ['raft', 3],
  ['pbft', 4],
])('recipes on %s', (protocol, nodes) => {
  const cluster = clusterForSuite(['--protocol', protocol as string, '--nodes', String(nodes)]);
  let c: TestCluster;
  let n = 0;
  const client = (deadEndpointFirst = false) =>
    new SynodClient({ endpoints: deadEndpointFirst ? ['http://127.0.0.1:1', c.url] : [c.url], clientId: `recipes-${protocol}-${process.pid}-${++n}` });
  beforeAll(() => {
    c = cluster();
  });

  it('lock: 4 clients × 10 acquisitions; tokens strictly increase in acquisition order, and no two holders overlap', async () => {
    const name = `${protocol}/lock/shared`;
    const resource = new FencedResource();
    const acquisitions: Array<{ holder: string; token: number }> = [];
    const work = async (holder: string) => {
      const synod = client();
      for (let i = 0; i < 10; i++) {
        const lock = await synod.lock(name, { ttlSeconds: 5 });
        acquisitions.push({ holder, token: lock.fencingToken });
        resource.write(lock.fencingToken, holder, 'start');
        await sleep(Math.random() * 30); // the critical section: an overlap would show as interleaved marks
        resource.write(lock.fencingToken, holder, 'end');
        await lock.unlock();
        await sleep(Math.random() * 20);
      }
    };
    await Promise.all(['w1', 'w2', 'w3', 'w4'].map(work));

    expect(acquisitions).toHaveLength(40);
    for (const h of ['w1', 'w2', 'w3', 'w4']) expect(acquisitions.filter((a) => a.holder === h)).toHaveLength(10);
    const tokens = acquisitions.map((a) => a.token);
    expect(tokens.every((t, i) => i === 0 || t > tokens[i - 1])).toBe(true);
    expect(resource.refused).toEqual([]);
    // start, end of one holder, then the next: never a start between another holder's start and end.
    const expected = acquisitions.flatMap((a) => [
      { ...a, mark: 'start' },
      { ...a, mark: 'end' },
    ]);
    expect(resource.accepted).toEqual(expected);
    // Nothing left behind: every key went with its unlock.
    expect(await client().page(`${name}/`)).toMatchObject({ items: [] });
  }, 180_000);

  it('lock: a holder whose lease is revoked from outside loses it; the next gets in, and the stale holder is refused by its token', async () => {
    const name = `${protocol}/lock/revoked`;
    const resource = new FencedResource();
    const stale = await client().lock(name, { ttlSeconds: 30 });
    expect(resource.write(stale.fencingToken, 'stale', 'start')).toBe(true);
    const next = tracked(client().lock(name, { ttlSeconds: 30 }));
    await sleep(1_500);
    expect(next.settled()).toBe(false); // held: it waits

    const revoked = await client().leases.revoke(stale.lease.id);
    expect(revoked).toMatchObject({ id: stale.lease.id, deleted: [stale.key] });
    const lock: Lock = await next.promise;
    expect(lock.fencingToken).toBeGreaterThan(stale.fencingToken);
    expect(resource.write(lock.fencingToken, 'next', 'start')).toBe(true);
    // The stale holder, not having looked at `lost`, writes on: refused.
    expect(resource.write(stale.fencingToken, 'stale', 'end')).toBe(false);
    expect(resource.refused).toEqual([{ token: stale.fencingToken, holder: 'stale', mark: 'end', highest: lock.fencingToken }]);
    // Had it looked: its lock is lost (its key deleted; or its lease gone, whichever it saw first).
    expect(['key-deleted', 'gone']).toContain((await stale.lost).reason);
    expect(resource.write(lock.fencingToken, 'next', 'end')).toBe(true);
    await lock.unlock();
    await stale.unlock(); // nothing left to give back: no error
    expect(await client().page(`${name}/`)).toMatchObject({ items: [] });
  }, 120_000);

  it('lock: a holder whose keepalives stop (a paused process) keeps it for its TTL, not less; then the next gets in with a higher token', async () => {
    const name = `${protocol}/lock/paused`;
    const resource = new FencedResource();
    const stale = await client().lock(name, { ttlSeconds: 2 });
    resource.write(stale.fencingToken, 'stale', 'start');
    const next = tracked(client().lock(name, { ttlSeconds: 30 }));
    await sleep(1_000);
    const validUntil = stale.lease.validUntil; // the TTL after the last acknowledged keepalive was sent
    stale.lease.close(); // no more keepalives: to the cluster, the process has stopped
    const lock = await next.promise;
    const acquiredAt = Date.now();
    expect(acquiredAt).toBeGreaterThanOrEqual(validUntil);
    expect(acquiredAt - validUntil).toBeLessThan(20_000);
    expect(lock.fencingToken).toBeGreaterThan(stale.fencingToken);
    expect(resource.write(lock.fencingToken, 'next', 'start')).toBe(true);
    expect(resource.write(stale.fencingToken, 'stale', 'end')).toBe(false);
    await lock.unlock();
    await stale.unlock();
  }, 120_000);

  it('election: 3 campaigners, one leader at a time; resign and a revoked lease hand over; observe() reports each leader in order', async () => {
    const name = `${protocol}/elect/boss`;
    const observer = client(true);
    const seen: Array<Leader | null> = [];
    const stop = new AbortController();
    const observing = (async () => {
      for await (const l of observer.observe(name, { signal: stop.signal })) seen.push(l);
    })().catch((err: unknown) => (stop.signal.aborted ? undefined : Promise.reject(err)));
    await waitFor(async () => seen.length > 0, 20_000, 'the first observation');
    expect(seen).toEqual([null]);

    const elected: Array<{ value: string; l: Leadership<string> }> = [];
    const values = ['alpha', 'beta', 'gamma'];
    for (const value of values)
      void client(true)
        .campaign(name, value, { ttlSeconds: 10 })
        .then((l) => elected.push({ value, l }));
    /** Waits until `count` were elected, then a while longer: no other may come. */
    const leaders = async (count: number) => {
      await waitFor(async () => elected.length >= count, 30_000, `${count} elected`);
      await sleep(1_000);
      expect(elected).toHaveLength(count);
      const now = elected[count - 1];
      expect(await observer.leader(name)).toEqual({ key: now.l.key, value: now.value, revision: now.l.revision });
      return now;
    };

    const first = await leaders(1);
    await first.l.resign();
    expect((await first.l.lost).reason).toBe('revoked');
    const second = await leaders(2);
    expect(second.l.revision).toBeGreaterThan(first.l.revision);

    await client().leases.revoke(second.l.lease.id); // from outside: as if its lease expired
    const third = await leaders(3);
    expect(third.l.revision).toBeGreaterThan(second.l.revision);
    expect(['key-deleted', 'gone']).toContain((await second.l.lost).reason);
    await expect(second.l.proclaim('still me?')).rejects.toMatchObject({ name: 'SynodLeaseLostError' });
    expect(new Set(elected.map((e) => e.value))).toEqual(new Set(values));

    await third.l.proclaim(`${third.value}-2`);
    expect(await observer.leader(name)).toMatchObject({ value: `${third.value}-2`, revision: third.l.revision });
    await third.l.resign();
    await waitFor(async () => seen.length >= 6, 20_000, `six observations (${JSON.stringify(seen)})`);
    await sleep(500);
    stop.abort();
    await observing;
    expect(seen).toEqual([
      null,
      ...[first, second, third].map((e) => ({ key: e.l.key, value: e.value, revision: e.l.revision })),
      { key: third.l.key, value: `${third.value}-2`, revision: third.l.revision },
      null,
    ]);
  }, 180_000);

  if (protocol !== 'raft') return;

  const ctl = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, '--endpoints', `http://127.0.0.1:1,${c.url}`, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };
  /** A synodctl that runs on: its output so far, its exit. */
  const ctlBg = (...args: string[]) => {
    const child = spawn(process.execPath, [CLI, '--endpoints', c.url, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = { out: '', err: '', exited: new Promise<number | null>((r) => child.once('exit', (code) => r(code))), child };
    child.stdout.on('data', (d: Buffer) => (p.out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (p.err += d.toString()));
    return p;
  };

  it('synodctl lease grant, get, put --lease, keepalive --once, revoke', async () => {
    const granted = ctl('lease', 'grant', '30', '--output', 'json');
    expect(granted.code).toBe(0);
    const { id, ttlSeconds } = JSON.parse(granted.out);
    expect(ttlSeconds).toBe(30);
    expect(ctl('lease', 'grant', '30')).toMatchObject({ code: 0, out: expect.stringMatching(/^lease \S+ granted \(TTL 30 s\)$/) });
    expect(ctl('put', '--lease', id, 'ctl-lease/a', 'one').code).toBe(0);
    expect(ctl('put', 'ctl-lease/b', 'two', '--lease', id).code).toBe(0);
    expect(ctl('get', 'ctl-lease/a')).toMatchObject({ code: 0, out: expect.stringContaining(`ctl-lease/a = one [lease ${id}]`) });
    expect(ctl('lease', 'get', id)).toMatchObject({
      code: 0,
      out: expect.stringMatching(new RegExp(`^lease ${id}: TTL 30 s, [\\d.]+ s left, renewed at revision \\d+, keys: ctl-lease/a ctl-lease/b$`)),
    });
    expect(ctl('lease', 'keepalive', id, '--once')).toMatchObject({ code: 0, out: `lease ${id} kept alive (TTL 30 s)` });
    const revoked = ctl('lease', 'revoke', id);
    expect(revoked).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^lease \S+ revoked \(revision \d+\), 2 keys deleted\n {2}ctl-lease\/a\n {2}ctl-lease\/b$/),
    });
    expect(ctl('get', 'ctl-lease/a').code).toBe(1);
    expect(ctl('lease', 'get', id)).toMatchObject({ code: 1, out: expect.stringContaining('not found') });
    expect(ctl('lease', 'keepalive', id, '--once').code).toBe(1);
    expect(ctl('lease', 'revoke', id).code).toBe(1);
    expect(ctl('put', '--lease', id, 'ctl-lease/c', 'x')).toMatchObject({ code: 1, err: expect.stringContaining('404') });
    expect(ctl('lease', 'grant', 'soon')).toMatchObject({ code: 2, err: expect.stringContaining('lease grant takes a number of seconds') });
  }, 90_000);

  it('synodctl lease keepalive: keeps the lease beyond its TTL until Ctrl-C; exit 1 when the lease goes', async () => {
    const { id } = JSON.parse(ctl('lease', 'grant', '2', '--output', 'json').out);
    const keeper = ctlBg('lease', 'keepalive', id);
    await sleep(4_000); // twice the TTL
    expect(await client().leases.get(id)).toMatchObject({ id, ttlSeconds: 2 });
    expect(keeper.out.split('\n').filter((l) => l === `lease ${id} kept alive (TTL 2 s)`).length).toBeGreaterThanOrEqual(4);
    keeper.child.kill('SIGINT');
    expect(await keeper.exited).toBe(0);

    const { id: id2 } = JSON.parse(ctl('lease', 'grant', '3', '--output', 'json').out);
    const keeper2 = ctlBg('lease', 'keepalive', id2);
    await waitFor(async () => keeper2.out.includes('kept alive'), 20_000, 'the first keepalive');
    await client().leases.revoke(id2);
    expect(await keeper2.exited).toBe(1);
    expect(keeper2.err).toContain(`lease ${id2} is gone`);
  }, 90_000);

  it('synodctl lock: waits for the holder, runs the command with SYNOD_FENCING_TOKEN, unlocks after, exits with its status', async () => {
    const name = 'ctl/lock';
    const held = await client().lock(name);
    const cmd = ctlBg('lock', name, '--', process.execPath, '-e', 'console.log("token=" + process.env.SYNOD_FENCING_TOKEN); process.exit(7)');
    await sleep(2_000);
    expect(cmd.out).toBe(''); // not before the holder lets go
    await held.unlock();
    expect(await cmd.exited).toBe(7);
    const m = /^locked ctl\/lock \(key (\S+), fencing token (\d+)\)\ntoken=(\d+)$/.exec(cmd.out.trim());
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(held.fencingToken);
    expect(m![3]).toBe(m![2]);
    expect(await client().page(`${name}/`)).toMatchObject({ items: [] }); // unlocked after the command

    // Without a command: held until Ctrl-C.
    const holder = ctlBg('lock', name, '--output', 'json');
    await waitFor(async () => holder.out.includes('fencingToken'), 20_000, 'the lock held');
    const { key, fencingToken } = JSON.parse(holder.out);
    expect(await client().leader(name)).toMatchObject({ key, revision: fencingToken });
    holder.child.kill('SIGINT');
    expect(await holder.exited).toBe(0);
    expect(await client().page(`${name}/`)).toMatchObject({ items: [] });
  }, 90_000);

  it('synodctl elect and elect --listen', async () => {
    const name = 'ctl/elect';
    const listen = ctlBg('elect', '--listen', name);
    await waitFor(async () => listen.out.includes('no leader'), 20_000, 'the listener');
    const alice = ctlBg('elect', name, 'alice');
    await waitFor(async () => alice.out.includes('elected'), 20_000, 'alice elected');
    const bob = ctlBg('elect', name, 'bob');
    await sleep(1_500);
    expect(bob.out).toBe('');
    alice.child.kill('SIGINT');
    expect(await alice.exited).toBe(0);
    await waitFor(async () => bob.out.includes('elected'), 20_000, 'bob elected');
    bob.child.kill('SIGINT');
    expect(await bob.exited).toBe(0);
    await waitFor(async () => listen.out.trim().split('\n').length >= 4, 20_000, 'four leader lines');
    listen.child.kill('SIGINT');
    expect(await listen.exited).toBe(0);
    expect(listen.out.trim().replace(/\(key \S+, revision \d+\)/g, '(…)')).toBe(
      [`${name}: no leader`, `${name}: leader alice (…)`, `${name}: leader bob (…)`, `${name}: no leader`].join('\n'),
    );
    expect(alice.out).toMatch(/^elected: ctl\/elect = alice \(key \S+, revision \d+\)\n$/);
  }, 90_000);
});
