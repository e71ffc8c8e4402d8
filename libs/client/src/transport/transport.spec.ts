import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { FakeTopics } from '../testing/fake-topics';
import { op, TxnBuilder, type TxnRequest, type TxnResult } from '../txn';
import { incrementOnce, once, SynodClientProxy, SynodContext, SynodRecord, SynodReplyTimeoutError, SynodServer } from './index';

interface Seen {
  data: unknown;
  id: string;
  offset: number;
  attempt: number;
  key: string | null;
  topic: string;
  headers: Record<string, string>;
}

const seen: Seen[] = [];
let failFirst = new Set<number>();
let slowMs = 0;

@Controller()
class TestHandlers {
  @EventPattern('orders.created')
  async created(@Payload() data: { n: number }, @Ctx() ctx: SynodContext): Promise<void> {
    if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
    seen.push({
      data,
      id: ctx.getId(),
      offset: ctx.getOffset(),
      attempt: ctx.getAttempt(),
      key: ctx.getKey(),
      topic: ctx.getTopic(),
      headers: ctx.getHeaders(),
    });
    if (failFirst.has(data.n) && ctx.getAttempt() === 1) throw new Error(`fail ${data.n}`);
  }

  @MessagePattern('payments.charge')
  charge(@Payload() data: { amount: number }): { ok: boolean; charged: number } {
    if (data.amount < 0) throw new RpcException({ code: 'negative', message: 'amount must be positive' });
    return { ok: true, charged: data.amount * 2 };
  }
}

@Module({ controllers: [TestHandlers] })
class TestModule {}

async function until(probe: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SynodServer and SynodClientProxy on a fake topics API', () => {
  let topics: FakeTopics;
  let app: INestMicroservice;
  let server: SynodServer;
  let proxy: SynodClientProxy;

  beforeEach(async () => {
    seen.length = 0;
    failFirst = new Set();
    slowMs = 0;
    topics = new FakeTopics();
    server = new SynodServer({ endpoints: ['http://unused'], group: 'payments', topics, waitMs: 50, concurrency: 4, nackDelayMs: 1 });
    app = await NestFactory.createMicroservice(TestModule, { strategy: server, logger: false });
    await app.listen();
    proxy = new SynodClientProxy({ endpoints: ['http://unused'], topics, clientId: 'orders-1', waitMs: 50, timeoutMs: 2000 });
  });

  afterEach(async () => {
    await proxy.close();
    await app.close();
  });

  it('delivers each emitted event to its @EventPattern handler with the context, and acks it', async () => {
    for (let n = 0; n < 30; n++) await firstValueFrom(proxy.emit('orders.created', new SynodRecord({ n }, { key: `k${n % 3}`, headers: { trace: `t${n}` } })));
    await until(() => topics.pending('orders.created', 'payments') === 0);
    expect(seen).toHaveLength(30);
    const s = seen.find((x) => (x.data as { n: number }).n === 7)!;
    expect(s).toMatchObject({ id: 'orders.created/7', offset: 7, attempt: 1, key: 'k1', topic: 'orders.created' });
    expect(s.headers.trace).toBe('t7');
    // Per key, handled in offset order.
    for (const k of ['k0', 'k1', 'k2']) {
      const offs = seen.filter((x) => x.key === k).map((x) => x.offset);
      expect(offs).toEqual([...offs].sort((a, b) => a - b));
    }
  });

  it('emit is exactly-once per idempotency key', async () => {
    await firstValueFrom(proxy.emit('orders.created', new SynodRecord({ n: 1 }, { idempotencyKey: 'order-1' })));
    await firstValueFrom(proxy.emit('orders.created', new SynodRecord({ n: 1 }, { idempotencyKey: 'order-1' })));
    expect(topics.topics.get('orders.created')).toHaveLength(1);
  });

  it('nacks a message whose handler throws: it comes again (attempt 2), and the later messages of its key wait for it', async () => {
    failFirst = new Set([1]);
    slowMs = 5;
    for (let n = 0; n < 4; n++) await firstValueFrom(proxy.emit('orders.created', new SynodRecord({ n }, { key: 'same' })));
    await until(() => topics.pending('orders.created', 'payments') === 0);
    // 1 fails once; 2 and 3, when fetched in its batch, are nacked unhandled and come again after it.
    expect(seen.map((x) => (x.data as { n: number }).n)).toEqual([0, 1, 1, 2, 3]);
    expect(seen.filter((x) => (x.data as { n: number }).n === 1).map((x) => x.attempt)).toEqual([1, 2]);
    // First handlings per key in offset order.
    const firsts = [...new Set(seen.map((x) => x.offset))];
    expect(firsts).toEqual([0, 1, 2, 3]);
    expect(topics.calls.some((c) => c.startsWith('nack orders.created orders.created/1'))).toBe(true);
  });

  it('answers send() through the reply topic, and gives a thrown RpcException to the caller', async () => {
    await expect(firstValueFrom(proxy.send('payments.charge', { amount: 21 }))).resolves.toEqual({ ok: true, charged: 42 });
    await expect(firstValueFrom(proxy.send('payments.charge', { amount: -1 }))).rejects.toMatchObject({ code: 'negative' });
    const req = topics.topics.get('payments.charge')![0];
    expect(req.headers['reply-to']).toBe('replies.orders-1');
    expect(req.headers['correlation-id']).toMatch(/[0-9a-f-]{36}/);
    expect(topics.topics.get('replies.orders-1')![0].headers['correlation-id']).toBe(req.headers['correlation-id']);
    await until(() => topics.pending('payments.charge', 'payments') === 0);
  });

  it('times out a send() nobody answers', async () => {
    const lonely = new SynodClientProxy({ endpoints: ['http://unused'], topics, clientId: 'lonely', waitMs: 20, timeoutMs: 200 });
    await expect(firstValueFrom(lonely.send('nobody.listens', { x: 1 }))).rejects.toBeInstanceOf(SynodReplyTimeoutError);
    await lonely.close();
  });

  it('consumes only patterns that are topic names', async () => {
    @Controller()
    class ObjectPattern {
      @EventPattern({ cmd: 'not-a-topic' })
      never(): void {}
    }
    @Module({ controllers: [ObjectPattern] })
    class ObjectModule {}
    const t = new FakeTopics();
    const other = await NestFactory.createMicroservice(ObjectModule, {
      strategy: new SynodServer({ endpoints: ['x'], group: 'g', topics: t, waitMs: 10 }),
      logger: false,
    });
    await other.listen();
    await new Promise((r) => setTimeout(r, 50));
    await other.close();
    expect(t.calls).toEqual([]);
  });

  it('keeps consuming after failed fetches', async () => {
    topics.failFetches = 3;
    await firstValueFrom(proxy.emit('orders.created', { n: 99 }));
    await until(() => seen.length === 1, 10_000);
  });

  it('close() stops the loops and acks the handler that was running', async () => {
    slowMs = 300;
    await firstValueFrom(proxy.emit('orders.created', { n: 5 }));
    await new Promise((r) => setTimeout(r, 150)); // the handler is running
    await app.close();
    expect(seen).toHaveLength(1);
    expect(topics.pending('orders.created', 'payments')).toBe(0);
    const fetches = topics.calls.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(topics.calls.length).toBe(fetches);
    app = await NestFactory.createMicroservice(TestModule, { strategy: new SynodServer({ endpoints: ['x'], group: 'g', topics }), logger: false });
  });
});

/** A KV with POST /v1/txn's rules, enough for `once`. */
function fakeKv(): { txn(): TxnBuilder; get(key: string): Promise<any>; store: Map<string, { value: any; modRevision: number; version: number }> } {
  const store = new Map<string, { value: any; modRevision: number; version: number }>();
  let revision = 0;
  const send = async (body: TxnRequest): Promise<TxnResult> => {
    const ok = body.compare.every((c) => {
      const it = store.get(c.key);
      const v = c.target === 'value' ? (it?.value ?? null) : c.target === 'version' ? (it?.version ?? 0) : (it?.modRevision ?? 0);
      return c.op === '=' ? v === c.value : c.op === '!=' ? v !== c.value : c.op === '<' ? v < (c.value as number) : v > (c.value as number);
    });
    const ops = ok ? body.success : body.failure;
    if (ok && ops.some((o) => o.op === 'put')) revision++;
    const results = ops.map((o) => {
      if (o.op === 'put') {
        store.set(o.key, { value: o.value, modRevision: revision, version: (store.get(o.key)?.version ?? 0) + 1 });
        return { op: 'put' as const, key: o.key, revision };
      }
      if (o.op === 'get') {
        const it = store.get(o.key);
        return { op: 'get' as const, key: o.key, item: it ? ({ key: o.key, ...it, revision: it.modRevision, createRevision: 0 } as any) : null };
      }
      throw new Error('unsupported');
    });
    return { succeeded: ok, results, revision };
  };
  return {
    store,
    txn: () => new TxnBuilder(send),
    get: async (key: string) => {
      const it = store.get(key);
      return it ? { key, ...it } : null;
    },
  };
}

describe('once: exactly-once effects of a message', () => {
  it('applies the ops and the marker in one transaction, once per message id', async () => {
    const kv = fakeKv();
    const first = await once(kv, 'orders.created/7', [op.put('balance/a', 10)]);
    expect(first).toMatchObject({ applied: true, processed: true });
    kv.store.set('balance/a', { value: 0, modRevision: 99, version: 9 });
    const again = await once(kv, 'orders.created/7', [op.put('balance/a', 10)]);
    expect(again).toMatchObject({ applied: false, processed: true });
    expect(kv.store.get('balance/a')!.value).toBe(0);
    expect(kv.store.has('processed/orders.created/7')).toBe(true);
  });

  it('incrementOnce counts a redelivered message once', async () => {
    const kv = fakeKv();
    expect(await incrementOnce(kv, 't/1', 'count/k')).toBe(true);
    expect(await incrementOnce(kv, 't/2', 'count/k')).toBe(true);
    expect(await incrementOnce(kv, 't/1', 'count/k')).toBe(false);
    expect(kv.store.get('count/k')!.value).toBe(2);
  });
});
