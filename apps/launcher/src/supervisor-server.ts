import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SUPERVISOR_ACTIONS, type SupervisorAction, type SupervisorActionOptions, type SupervisorStatus } from '@app/wire';

/** What the supervisor can do; the launcher implements it. */
export interface SupervisorActions {
  list(): SupervisorStatus[];
  act(node: string, action: SupervisorAction, options?: SupervisorActionOptions): Promise<SupervisorStatus>;
}

export class UnknownNodeError extends Error {}

/**
 * The supervisor's door: HTTP on loopback with a bearer token, so that only the gateway this
 * launcher started (which got the token in its environment) can hard-kill or respawn processes.
 * It is deliberately not on the bus: nothing that can publish on a Redis can reach it.
 */
export async function startSupervisorServer(actions: SupervisorActions, token: string): Promise<{ url: string; server: Server }> {
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: Error) => reply(res, 500, { error: err.message }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply(res, 401, { error: 'bad or missing supervisor token' });
    const url = new URL(req.url ?? '/', 'http://supervisor');
    if (req.method === 'GET' && url.pathname === '/v1/nodes') return reply(res, 200, actions.list());
    const m = /^\/v1\/nodes\/([A-Za-z0-9_-]{1,64})\/([a-z-]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) return reply(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    const action = m[2] as SupervisorAction;
    if (!SUPERVISOR_ACTIONS.includes(action)) return reply(res, 404, { error: `unknown action ${action}` });
    const options = await readOptions(req);
    if (options === null) return reply(res, 400, { error: 'the body must be JSON {"pbftConfiguration"?: {"epoch","replicas","since"}}' });
    try {
      return reply(res, 200, await actions.act(m[1], action, options));
    } catch (err) {
      if (err instanceof UnknownNodeError) return reply(res, 404, { error: err.message });
      return reply(res, 409, { error: (err as Error).message });
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, server };
}

/** An action's options from its (small, optional) JSON body; null when it is not what an action takes. */
async function readOptions(req: IncomingMessage): Promise<SupervisorActionOptions | null> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 64 * 1024) return null;
  }
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const conf = (body as SupervisorActionOptions).pbftConfiguration;
  if (conf === undefined) return {};
  const nat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const ok =
    typeof conf === 'object' &&
    conf !== null &&
    nat(conf.epoch) &&
    nat(conf.since) &&
    Array.isArray(conf.replicas) &&
    conf.replicas.every((r) => typeof r === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(r));
  return ok ? { pbftConfiguration: { epoch: conf.epoch, replicas: [...conf.replicas], since: conf.since } } : null;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
