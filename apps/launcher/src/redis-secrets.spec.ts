import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  aclArgs,
  aclFileText,
  busUrlsWithCredentials,
  busUser,
  ensureRedisSecrets,
  hasLogin,
  ownerUser,
  passwordHash,
  readRedisSecrets,
  unredactUrl,
  withLogin,
} from './redis-secrets';

describe('redis-secrets', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'synod-secrets-')), 'keys');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('makes random passwords once, keeps them (file 0600, directory 0700), and adds only missing users', () => {
    const a = ensureRedisSecrets(dir, ['n1', 'bus']);
    expect(a.n1).toMatch(/^[0-9a-f]{64}$/);
    expect(a.n1).not.toBe(a.bus);
    expect(statSync(join(dir, 'redis.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const b = ensureRedisSecrets(dir, ['n1', 'bus', 'gateway']);
    expect(b).toMatchObject(a);
    expect(b.gateway).toMatch(/^[0-9a-f]{64}$/);
    expect(readRedisSecrets(dir)).toEqual(b);
    expect(readRedisSecrets(join(dir, 'nowhere'))).toBeNull();
  });

  it('gives Redis only password hashes; default is off; bus is pub/sub on its cluster only', () => {
    const users = [ownerUser('n1', 'owner-secret'), busUser('c1', 'bus-secret')];
    const args = aclArgs(users);
    expect(args.join(' ')).not.toMatch(/owner-secret|bus-secret/);
    expect(args).toContain(`#${passwordHash('bus-secret')}`);
    expect(args.slice(0, 3)).toEqual(['--user', 'default', 'off']);
    const bus = args.slice(args.lastIndexOf('--user') + 1);
    expect(bus).toEqual(expect.arrayContaining(['bus', 'on', '&synod:c1:*', '&synod.c1.control.*', '-@all', '+publish', '+subscribe', 'resetkeys']));
    expect(bus).not.toContain('~*');
    expect(aclFileText(users).split('\n')[0]).toBe('user default off resetpass ~* &* +@all');
  });

  it('puts a login into a URL, and a password back into a redacted one', () => {
    expect(withLogin('redis://127.0.0.1:6390', 'bus', 'p/w')).toBe('redis://bus:p%2Fw@127.0.0.1:6390');
    expect(withLogin('redis://u:x@h:1', 'bus', 'pw')).toBe('redis://u:x@h:1');
    expect(hasLogin('redis://h:1/2')).toBe(false);
    expect(hasLogin('redis://:pw@h:1')).toBe(true);
    expect(unredactUrl('redis://bus:***@127.0.0.1:6390', { bus: 'pw' })).toBe('redis://bus:pw@127.0.0.1:6390');
    expect(unredactUrl('redis://someone:***@h:1', { bus: 'pw' })).toBe('redis://someone:***@h:1');
    expect(unredactUrl('redis://h:1', { bus: 'pw' })).toBe('redis://h:1');
    const secrets = ensureRedisSecrets(dir, ['bus']);
    expect(busUrlsWithCredentials({ keys: dir, homes: { n1: 'redis://bus:***@127.0.0.1:7001' } })).toEqual({ n1: `redis://bus:${secrets.bus}@127.0.0.1:7001` });
  });
});
