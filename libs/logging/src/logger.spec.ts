import { Writable } from 'node:stream';
import { createLogger, logLevel, LogLevelError } from './logger';
import { redactUrl, scrubUrls } from './scrub';

/** A logger writing into an array of parsed lines. */
function capture(level: Parameters<typeof createLogger>[0]['level'] = 'info') {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger({ service: 'test', level, bindings: { node: 'n1' }, destination });
  return { log, raw, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('createLogger', () => {
  it('writes one JSON object a line, with service, bindings, ISO time and the level as a word, no colour codes', async () => {
    const c = capture();
    c.log.info({ context: 'Replica' }, 'up');
    await flush();
    expect(c.raw).toHaveLength(1);
    expect(c.raw[0]).not.toContain('\u001b['); // no ANSI colour codes
    expect(c.lines()[0]).toMatchObject({ level: 'info', service: 'test', node: 'n1', context: 'Replica', msg: 'up' });
    expect(String(c.lines()[0].time)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('hides passwords of URLs in messages and in errors', async () => {
    const c = capture();
    c.log.info('waiting for redis://:hunter2@10.0.0.1:6379/0 and rediss://app:s3cret@h:6380?sentinelPassword=x&db=1');
    c.log.error({ err: new Error('cannot reach redis://u:pw@h:1') }, 'failed');
    await flush();
    const text = c.raw.join('\n');
    expect(text).not.toMatch(/hunter2|s3cret|sentinelPassword=x|:pw@/);
    expect(c.lines()[0].msg).toBe('waiting for redis://:***@10.0.0.1:6379/0 and rediss://app:***@h:6380?sentinelPassword=***&db=1');
    expect((c.lines()[1].err as { message: string }).message).toBe('cannot reach redis://u:***@h:1');
  });

  it('redacts the Authorization header and cookies of a logged request', async () => {
    const c = capture();
    c.log.info({ req: { method: 'GET', headers: { authorization: 'Bearer sesame', cookie: 'a=b', accept: '*/*' } } }, 'req');
    await flush();
    expect(c.raw[0]).not.toMatch(/sesame|a=b/);
    expect(c.lines()[0].req).toMatchObject({ headers: { authorization: '***', cookie: '***', accept: '*/*' } });
  });

  it("logs Nest's start-up chatter (routes, modules) at debug, everything else as asked", async () => {
    const info = capture('info');
    info.log.info({ context: 'RouterExplorer' }, 'Mapped {/v1/kv/:key, PUT} route');
    info.log.info({ context: 'InstanceLoader' }, 'AppModule dependencies initialized');
    info.log.info({ context: 'Server' }, 'Connected to Redis. Subscribing to channels...');
    info.log.info({ context: 'Gateway' }, 'listening');
    info.log.warn({ context: 'NestApplication' }, 'a warning stays a warning');
    await flush();
    expect(info.lines().map((l) => l.msg)).toEqual(['listening', 'a warning stays a warning']);
    const debug = capture('debug');
    debug.log.info({ context: 'RoutesResolver' }, 'KvController {/v1/kv}');
    await flush();
    expect(debug.lines()).toEqual([expect.objectContaining({ level: 'debug', msg: 'KvController {/v1/kv}' })]);
  });
});

describe('logLevel', () => {
  it('defaults to info and takes any pino level', () => {
    expect(logLevel({})).toBe('info');
    expect(logLevel({ LOG_LEVEL: '' })).toBe('info');
    expect(logLevel({ LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevel({ LOG_LEVEL: 'silent' })).toBe('silent');
  });

  it('refuses a level pino does not know, naming the choices', () => {
    expect(() => logLevel({ LOG_LEVEL: 'verbose' })).toThrow(LogLevelError);
    expect(() => logLevel({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/);
  });
});

describe('scrubUrls', () => {
  it.each([
    ['no url here', 'no url here'],
    ['redis://h:6379', 'redis://h:6379'],
    ['redis://secret@h:6379', 'redis://***@h:6379'],
    ['at "redis://u:p@h:1".', 'at "redis://u:***@h:1".'],
    ['http://x/?token=abc&limit=3', 'http://x/?token=***&limit=3'],
  ])('%s', (input, out) => expect(scrubUrls(input)).toBe(out));
});

describe('redactUrl', () => {
  it.each([
    ['/v1/kv/a@b', '/v1/kv/a@b'],
    ['/v1/kv/a@b?password=x&limit=1', '/v1/kv/a@b?password=***&limit=1'],
    ['redis://:pw@h:6379', 'redis://:***@h:6379'],
  ])('%s', (input, out) => expect(redactUrl(input)).toBe(out));
});
