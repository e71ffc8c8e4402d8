import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, startRedis, type TestRedis } from '../../../test/support/redis-server';
import { redact } from './redact';
import { redisOptions, RedisUrlError } from './redis-url';

const options = (url: string) => redisOptions(url).options;

function failure(url: string): string {
  try {
    redisOptions(url);
  } catch (err) {
    expect(err).toBeInstanceOf(RedisUrlError);
    return (err as Error).message;
  }
  throw new Error(`${url} was accepted`);
}

describe('redisOptions', () => {
  it('reads host, port (6379 by default), user, password and db', () => {
    expect(options('redis://h')).toEqual({ host: 'h', port: 6379 });
    expect(options('redis://127.0.0.1:7000/')).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(options('redis://alice:s%40cret@h:7000/2')).toEqual({ host: 'h', port: 7000, username: 'alice', password: 's@cret', db: 2 });
    expect(options('redis://:pw@h/0')).toEqual({ host: 'h', port: 6379, password: 'pw' });
    expect(options('REDIS://[::1]:7001')).toEqual({ host: '::1', port: 7001 });
    // A raw @ / or ? in a password: the user part ends at the last @.
    expect(options('redis://:p@ss/w?rd@h:1')).toEqual({ host: 'h', port: 1, password: 'p@ss/w?rd' });
  });

  it('turns on TLS for rediss://, checking the host name (not an IP) against the certificate', () => {
    expect(options('rediss://u:p@redis.example.com:6380/1')).toEqual({
      host: 'redis.example.com',
      port: 6380,
      username: 'u',
      password: 'p',
      db: 1,
      tls: { servername: 'redis.example.com' },
    });
    expect(options('rediss://10.0.0.5').tls).toEqual({});
  });

  it("reads a Sentinel URL: sentinels, master name, db, the master's login and the sentinels'", () => {
    expect(options('redis+sentinel://s1:26379,s2,[::1]:26380/bus')).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'bus',
      failoverDetector: true,
    });
    expect(options('redis+sentinel://u:p@s1/bus/3?sentinelUsername=su&sentinelPassword=s%26p')).toEqual({
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'bus',
      db: 3,
      username: 'u',
      password: 'p',
      sentinelUsername: 'su',
      sentinelPassword: 's&p',
      failoverDetector: true,
    });
    expect(options('rediss+sentinel://s1/bus')).toMatchObject({ tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} });
  });

  it('redacts the password, and only the password', () => {
    expect(redisOptions('redis://alice:hunter2@h:1/2').redacted).toBe('redis://alice:***@h:1/2');
    expect(redisOptions('redis://h:1').redacted).toBe('redis://h:1');
    expect(redisOptions('redis+sentinel://:hunter2@s1,s2/m?sentinelPassword=hunter3&sentinelUsername=su').redacted).toBe(
      'redis+sentinel://:***@s1,s2/m?sentinelPassword=***&sentinelUsername=su',
    );
  });

  it.each([
    ['', /not a URL/],
    ['localhost:6379', /not a URL/],
    ['http://h:1', /scheme/],
    ['redis://', /bad host/],
    ['redis://h:0', /port/],
    ['redis://h:99999', /port/],
    ['redis://h:port', /bad host/],
    ['redis://h/db', /database/],
    ['redis://h/1/2', /database number/],
    ['redis://h?family=6', /no query/],
    ['redis://h1,h2', /one host only/],
    ['redis://h#frag', /fragment/],
    ['redis://:%zz@h', /password has a bad %-escape/],
    ['redis://[nope]:1', /bad host/],
    ['redis+sentinel://s1', /master name/],
    ['redis+sentinel://s1/bad name', /master name/],
    ['redis+sentinel://s1/m/x', /database/],
    ['redis+sentinel://s1/m/1/2', /masterName/],
    ['redis+sentinel://s1/m?password=x', /unknown query parameter/],
    ['redis+sentinel://s1,,s2/m', /bad host/],
  ])('refuses %p', (url, why) => expect(failure(url)).toMatch(why));

  it('never puts a piece of the URL in its message', () => {
    for (const url of [
      'redis://:hunter2@',
      'redis://:hunter2@h:hunter2',
      'redis://u:hunter2@h/hunter2',
      'redis+sentinel://:x@s/hunter2?hunter2=1',
      'hunter2://h',
    ]) {
      expect(failure(url)).not.toContain('hunter2');
    }
  });
});

describe('redact', () => {
  it.each([
    ['redis://:hunter2@h:1/0', 'redis://:***@h:1/0'],
    ['redis://u:hunter2@h', 'redis://u:***@h'],
    // A lone user part may be a password written the Lettuce way: hidden too.
    ['redis://hunter2@h', 'redis://***@h'],
    ['http://user:hunter2@host', 'http://user:***@host'],
    ['redis://:pa/ss@h', 'redis://:***@h'],
    ['redis://:pa?ss@h', 'redis://:***@h'],
    ['user:hunter2@host', '***@host'],
    ['redis://h:1/2', 'redis://h:1/2'],
    ['http://h/?token=abc&x=1', 'http://h/?token=***&x=1'],
    // a request path: @ belongs to the path, only secret query values go
    ['/v1/kv/a@b?password=x&limit=1', '/v1/kv/a@b?password=***&limit=1'],
  ])('%p → %p', (url, out) => expect(redact(url)).toBe(out));
});

/** The options work on real servers, not only in a table. */
describe('redisOptions against real Redis', () => {
  let master: TestRedis;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  let dir: string;
  const clients: Redis[] = [];
  // disconnectTimeout: ioredis leaves a timer of that length behind when the socket already closed.
  const connect = (url: string): Redis => {
    const c = new Redis({ ...redisOptions(url).options, maxRetriesPerRequest: 1, retryStrategy: () => null, disconnectTimeout: 100 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    master = await startRedis({ appendfsync: 'no' });
    const admin = new Redis(master.port, '127.0.0.1');
    await admin.config('SET', 'requirepass', 'pa:ss@1');
    admin.disconnect();
    // A Sentinel watching it (quorum 1), so redis+sentinel:// URLs are tried for real.
    dir = mkdtempSync(join(tmpdir(), 'synod-sentinel-'));
    sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor bus 127.0.0.1 ${master.port} 1\nsentinel auth-pass bus pa:ss@1\n`);
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const probe = new Redis({ port: sentinelPort, host: '127.0.0.1', retryStrategy: () => 50, maxRetriesPerRequest: null });
    await probe.call('SENTINEL', 'get-master-addr-by-name', 'bus');
    probe.disconnect();
  }, 20_000);

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await new Promise<void>((r) => (sentinel.exitCode !== null ? r() : (sentinel.once('exit', () => r()), sentinel.kill('SIGKILL'))));
    rmSync(dir, { recursive: true, force: true });
    await master.stop();
  });

  it('logs in with the password and selects the db', async () => {
    const c = connect(`redis://:${encodeURIComponent('pa:ss@1')}@127.0.0.1:${master.port}/3`);
    await c.set('k', 'v');
    expect(await c.client('INFO')).toContain(' db=3 ');
    expect(await c.get('k')).toBe('v');
  });

  it('is refused with a wrong password', async () => {
    const c = connect(`redis://:wrong@127.0.0.1:${master.port}`);
    c.on('error', () => undefined);
    await expect(c.ping()).rejects.toThrow(/WRONGPASS|invalid password/);
  });

  it('finds the master through Sentinel', async () => {
    const c = connect(`redis+sentinel://:${encodeURIComponent('pa:ss@1')}@127.0.0.1:${sentinelPort}/bus/4`);
    await c.set('through-sentinel', '1');
    expect(await c.client('INFO')).toContain(' db=4 ');
    const direct = connect(`redis://:${encodeURIComponent('pa:ss@1')}@127.0.0.1:${master.port}/4`);
    expect(await direct.get('through-sentinel')).toBe('1');
  });
});
