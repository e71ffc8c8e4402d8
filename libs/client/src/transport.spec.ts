import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SynodError, SynodUnavailableError } from './errors';
import { Transport } from './transport';

/**
 * The retry rules against a real HTTP server that answers from a script: what the client does
 * after each answer the REST contract defines.
 */
type Step = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
let script: Step[] = [];
let seen: Array<{ method: string; key: string | undefined }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', key: req.headers['idempotency-key'] as string | undefined });
    req.resume();
    const step = script.shift() ?? ok;
    step(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  script = [];
  seen = [];
});

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Step =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
const ok = json(200, { key: 'k', value: 'v', revision: 1 });
const problem = (status: number, extra: Record<string, unknown> = {}) => ({ type: 'about:blank', title: 'x', status, detail: `it was ${status}`, ...extra });

describe('SDK transport', () => {
  it('after a 503 waits Retry-After, then tries again', async () => {
    script = [json(503, problem(503), { 'retry-after': '1' })];
    const t0 = Date.now();
    const r = await new Transport({ endpoints: [base] }).request('PUT', '/v1/kv/k', { value: 'v' }, { 'idempotency-key': 'c/1' });
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(seen).toHaveLength(2);
  });

  it('after a 504 sends the write again with the same Idempotency-Key', async () => {
    script = [json(504, problem(504)), json(504, problem(504))];
    await new Transport({ endpoints: [base] }).request('PUT', '/v1/kv/k', { value: 'v' }, { 'idempotency-key': 'c/7' });
    expect(seen.map((s) => s.key)).toEqual(['c/7', 'c/7', 'c/7']);
  });

  it('moves on to the next gateway when one does not answer', async () => {
    const dead = 'http://127.0.0.1:1'; // nothing listens on port 1
    const r = await new Transport({ endpoints: [dead, base] }).request('GET', '/v1/kv/k');
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it('a 4xx is the answer: thrown with its problem details, never retried', async () => {
    script = [json(422, problem(422, { field: 'Idempotency-Key' }))];
    const err = await new Transport({ endpoints: [base] }).request('PUT', '/v1/kv/k', { value: 'v' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodError);
    expect((err as SynodError).status).toBe(422);
    expect((err as SynodError).problem?.field).toBe('Idempotency-Key');
    expect(seen).toHaveLength(1);
  });

  it('404 is an answer when the caller accepts it', async () => {
    script = [json(404, problem(404))];
    expect((await new Transport({ endpoints: [base] }).request('GET', '/v1/kv/none', undefined, {}, [404])).status).toBe(404);
  });

  it('gives up at the deadline, saying whether a write may have been applied', async () => {
    script = Array.from({ length: 50 }, () => json(503, problem(503)));
    const none = await new Transport({ endpoints: [base], deadlineMs: 300 }).request('PUT', '/v1/kv/k', {}).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(SynodUnavailableError);
    expect((none as SynodUnavailableError).unknownOutcome).toBe(false); // only 503s: nothing applied
    script = Array.from({ length: 50 }, () => json(504, problem(504)));
    const maybe = await new Transport({ endpoints: [base], deadlineMs: 300 }).request('PUT', '/v1/kv/k', {}).catch((e: unknown) => e);
    expect((maybe as SynodUnavailableError).unknownOutcome).toBe(true);
    expect((maybe as SynodUnavailableError).lastStatus).toBe(504);
  });
});
