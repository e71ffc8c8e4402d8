import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { Logger } from '@nestjs/common';
import type { ZodType } from 'zod';
import { carriesBody } from '../http/json-only';
import type { LeanRoute } from '../http/lean-routes';
import { plainJsonBody, readJsonBody } from '../http/lean-routes';
import { sendError } from '../http/send-problem';
import { problemFromZod } from '../http/validation';
import { writeJson } from '../http/write-json';
import { CasBodyDto, PutBodyDto, ReadQueryDto } from './kv.dto';
import type { KvController } from './kv.controller';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface KvFastPathOptions {
  controller: KvController;
  /** The middlewares every request meets first (request id and log line, metrics), in order. */
  before: Middleware[];
  /** Whether Express's guards would let this request through unanswered (Host, Origin): else it goes to Express. */
  admits(req: IncomingMessage): boolean;
  bodyLimitBytes: number;
  bodyLimit: string;
  /** Told of each request taken (a metric: how much of the load the lean route carries). */
  served(route: string): void;
}

const PREFIX = '/v1/kv/';

interface Match {
  method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  /** The route template, as Express names it in req.route (the metrics' `route` label). */
  route: string;
  key: string;
  query: string;
}

/**
 * GET, PUT and DELETE /v1/kv/{key} and POST /v1/kv/{key}/cas as a lean route (http/lean-routes.ts):
 * the same middlewares, the same zod schemas, the same KvController method, the same answers.
 */
export function kvFastPath(o: KvFastPathOptions): LeanRoute {
  const logger = new Logger('KvFastPath');
  return (req, res) => {
    const m = match(req);
    if (m === null || !o.admits(req) || !plainJsonBody(req)) return false;
    // Body-less methods with a body (rare, and refused or ignored by Express's rules) go there.
    if ((m.method === 'GET' || m.method === 'DELETE') && carriesBody(req)) return false;
    Object.assign(req, { baseUrl: '', originalUrl: req.url });
    o.served(m.route);
    for (const mw of o.before) mw(req, res, noop);
    answer(o, m, req).then(
      (body) => writeJson(res, 200, body),
      (err: unknown) => {
        // As jsonBody does: the rest of an oversized body is not read, so the connection cannot be reused.
        if (typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'entity.too.large') res.setHeader('Connection', 'close');
        sendError(req, res, err, o.bodyLimit, logger);
      },
    );
    return true;
  };
}

const noop = (): void => undefined;

async function answer(o: KvFastPathOptions, m: Match, req: IncomingMessage): Promise<unknown> {
  const idem = req.headers['idempotency-key'];
  const body = m.method === 'PUT' || m.method === 'POST' ? await readJsonBody(req, o.bodyLimitBytes) : undefined;
  // Only now has the request reached its route, as in Express: a body refused above counts as the
  // body parser's answer (route "middleware" in the metrics), one read counts under the route.
  (req as IncomingMessage & { route?: { path: string } }).route = { path: m.route };
  switch (m.method) {
    case 'GET':
      return o.controller.get(m.key, validated(ReadQueryDto.schema, parseQueryString(m.query)));
    case 'PUT':
      return o.controller.put(m.key, validated(PutBodyDto.schema, body), idem);
    case 'DELETE':
      return o.controller.delete(m.key, idem);
    case 'POST':
      return o.controller.cas(m.key, validated(CasBodyDto.schema, body), idem);
  }
}

/** What the global ProblemValidationPipe does to a @Body() or @Query() typed with a zod DTO. */
function validated<T extends ZodType>(schema: T, value: unknown): ReturnType<T['parse']> {
  const r = schema.safeParse(value);
  if (!r.success) throw problemFromZod(r.error);
  return r.data as ReturnType<T['parse']>;
}

/**
 * The four routes in their plain spelling only: lower case, no trailing slash, one path segment
 * for the key, percent-decoding that succeeds. Express matches more spellings (case, a trailing
 * slash) and answers a bad percent-encoding itself; those requests go to it.
 */
function match(req: IncomingMessage): Match | null {
  const url = req.url ?? '';
  if (!url.startsWith(PREFIX)) return null;
  const q = url.indexOf('?');
  const rest = url.slice(PREFIX.length, q < 0 ? url.length : q);
  const slash = rest.indexOf('/');
  const cas = slash >= 0;
  if (cas && rest.slice(slash) !== '/cas') return null;
  const segment = cas ? rest.slice(0, slash) : rest;
  if (segment === '') return null;
  const method = req.method;
  if (cas ? method !== 'POST' : method !== 'GET' && method !== 'PUT' && method !== 'DELETE') return null;
  let key = segment;
  if (segment.includes('%')) {
    try {
      key = decodeURIComponent(segment);
    } catch {
      return null;
    }
  }
  return { method: method as Match['method'], route: cas ? '/v1/kv/:key/cas' : '/v1/kv/:key', key, query: q < 0 ? '' : url.slice(q + 1) };
}
