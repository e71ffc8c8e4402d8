import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { http, startGateway, type RunningGateway } from '../testing/gateway-harness';

// The OpenAPI document is generated from the same zod schemas that check the requests, and every
// error answer is documented as problem details. No replica is needed: nothing here reaches one.

jest.setTimeout(30_000);

let redis: TestRedis;
let gw: RunningGateway;
let spec: any;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  gw = await startGateway({ BUS_URL: redis.url, CLUSTER: 'openapi', NODES: 'n1,n2,n3' });
  spec = (await http(gw.base, 'GET', '/docs-json')).body;
});

afterAll(async () => {
  await gw?.close();
  await redis?.stop();
});

const bodyOf = (op: any): unknown => op.requestBody?.content?.['application/json']?.schema;

describe('OpenAPI document', () => {
  it('/docs renders and /docs-json is OpenAPI 3', async () => {
    const docs = await http(gw.base, 'GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger');
    expect(spec.openapi).toMatch(/^3\./);
  });

  it('lists the request bodies from the zod schemas', () => {
    const schemas = spec.components.schemas;
    expect(bodyOf(spec.paths['/v1/kv/{key}'].put)).toEqual({ $ref: '#/components/schemas/PutBodyDto' });
    expect(schemas.PutBodyDto).toMatchObject({
      type: 'object',
      properties: { value: { description: expect.stringMatching(/^Any JSON value/) }, lease: { type: 'string' } },
    });
    expect(bodyOf(spec.paths['/v1/kv/{key}/cas'].post)).toEqual({ $ref: '#/components/schemas/CasBodyDto' });
    expect(schemas.CasBodyDto.required).toEqual(['expected', 'value']);
    expect(schemas.CasBodyDto.properties.expected).toMatchObject({ nullable: true, description: expect.stringMatching(/null for "key must be absent"/) });
    expect(bodyOf(spec.paths['/v1/commands'].post)).toEqual({ $ref: '#/components/schemas/CommandsBodyDto' });
    const commands = schemas.CommandsBodyDto.properties.commands;
    expect(commands).toMatchObject({ type: 'array', minItems: 1, maxItems: 1000 });
    const cas = commands.items.oneOf.find((o: any) => o.properties.op.enum?.[0] === 'cas');
    expect(cas).toMatchObject({ required: ['op', 'key', 'expected', 'value'], properties: { expected: { nullable: true } } });
    expect(bodyOf(spec.paths['/v1/admin/nodes/{id}/byzantine'].post)).toEqual({ $ref: '#/components/schemas/ByzantineBodyDto' });
    expect(schemas.ByzantineBodyDto.properties.behavior.enum).toEqual(expect.arrayContaining(['equivocate', 'none']));
  });

  it('is OpenAPI 3.0 throughout: nullable, never a list of types', () => {
    expect(JSON.stringify(spec)).not.toMatch(/"type":\[/);
    expect(spec.components.schemas.CasResultDto.properties.succeeded).toMatchObject({ type: 'boolean' });
    expect(spec.components.schemas.ListResultDto.properties.next).toMatchObject({ type: 'string', nullable: true });
  });

  it('lists the query parameters from the zod schemas', () => {
    const params = (path: string, method: string): Record<string, any> =>
      Object.fromEntries(spec.paths[path][method].parameters.filter((p: any) => p.in === 'query').map((p: any) => [p.name, p]));
    const list = params('/v1/kv', 'get');
    expect(Object.keys(list).sort()).toEqual(['after', 'consistency', 'limit', 'prefix']);
    expect(list.consistency.schema.enum).toEqual(['linearizable', 'stale']);
    expect(list.consistency.required).toBe(false);
    expect(Object.keys(params('/v1/kv/{key}', 'get'))).toEqual(['consistency', 'revision']);
    expect(Object.keys(params('/v1/watch', 'get')).sort()).toEqual(['fromRevision', 'key', 'prefix']);
    expect(params('/v1/admin/nodes/{id}/kill', 'post').mode.schema.enum).toEqual(['soft', 'hard']);
  });

  it('documents every error answer as application/problem+json', () => {
    expect(spec.components.schemas.ProblemDto.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance']));
    const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } };
    for (const [path, method, status] of [
      ['/v1/kv/{key}', 'put', '400'],
      ['/v1/kv/{key}', 'put', '413'],
      ['/v1/kv/{key}', 'put', '503'],
      ['/v1/kv/{key}', 'put', '504'],
      ['/v1/kv/{key}', 'get', '404'],
      ['/v1/kv/{key}', 'get', '410'],
      ['/v1/txn', 'post', '400'],
      ['/v1/txn', 'post', '413'],
      ['/v1/watch', 'get', '410'],
      ['/v1/compact', 'post', '400'],
      ['/v1/leases', 'post', '400'],
      ['/v1/leases/{id}/keepalive', 'post', '404'],
      ['/v1/leases/{id}', 'delete', '404'],
      ['/v1/leases/{id}', 'get', '404'],
      ['/v1/commands', 'post', '400'],
      ['/v1/admin/nodes/{id}/kill', 'post', '401'],
    ]) {
      expect({ path, method, status, content: spec.paths[path][method].responses[status]?.content }).toEqual({ path, method, status, content: problem });
    }
  });
});

describe('problem details', () => {
  it('a 400 names its field and keeps the old words as detail', async () => {
    const res = await http(gw.base, 'POST', '/v1/kv/k/cas?x=1', { body: { value: 'v' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toEqual({
      type: 'https://synod.dev/problems/invalid-field',
      title: 'A request field is invalid',
      status: 400,
      detail: 'expected is required (a JSON value, or null for "key must be absent")',
      instance: '/v1/kv/k/cas',
      field: 'expected',
    });
  });

  it('body-parser errors are problems too', async () => {
    const res = await http(gw.base, 'PUT', '/v1/kv/k', { body: '{"value":' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: 'https://synod.dev/problems/malformed-body', detail: 'malformed JSON body', field: 'body', instance: '/v1/kv/k' });
  });

  it('a status with no meaning of our own is about:blank with the reason phrase', async () => {
    const res = await http(gw.base, 'DELETE', '/v1/nowhere');
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Not Found', status: 404, instance: '/v1/nowhere' });
  });
});
