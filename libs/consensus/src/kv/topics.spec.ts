import {
  KvStateMachine,
  KvValidationError,
  answerQuery,
  decodeRequest,
  encodeRequest,
  type KvOptions,
  type KvRequest,
  type KvResult,
  type TopicCommand,
} from './index';
import { packr } from './msgpack';

/** A replica whose every command goes through the log encoding first, as in the runtimes. */
class Harness {
  sm: KvStateMachine;
  rev = 0;
  /** Request ids are `c/<seq>`: a replica restored from another's snapshot takes its seq over. */
  seq = 0;

  constructor(opts?: KvOptions, sm?: KvStateMachine) {
    this.sm = sm ?? new KvStateMachine(opts);
    this.rev = this.sm.appliedRevision;
  }

  run(cmd: TopicCommand, id = `c/${++this.seq}`, fingerprint?: string): KvResult {
    const req: KvRequest = { id, ts: 0, cmd, ...(fingerprint === undefined ? {} : { fingerprint }) };
    return this.sm.apply(++this.rev, decodeRequest(encodeRequest(req)));
  }

  publish(topic: string, value: string, key: string | null = null, now = 0, headers: Record<string, string> | null = null) {
    return this.run({ op: 'topic-publish', topic, key, value, headers, now }) as Extract<KvResult, { op: 'topic-publish' }>;
  }

  fetch(topic: string, group: string, consumer: string, max: number, now = 0, visibilityMs = 1000) {
    const r = this.run({ op: 'topic-fetch', topic, group, consumer, max, visibilityMs, now });
    return (r as Extract<KvResult, { op: 'topic-fetch' }>).messages;
  }

  ack(topic: string, group: string, ids: string[]) {
    return this.run({ op: 'topic-ack', topic, group, ids }) as Extract<KvResult, { op: 'topic-ack' }>;
  }

  nack(topic: string, group: string, ids: string[], now = 0, delayMs = 0) {
    return this.run({ op: 'topic-nack', topic, group, ids, delayMs, now }) as Extract<KvResult, { op: 'topic-nack' }>;
  }

  info(topic: string) {
    return this.sm.topicInfo(topic);
  }
}

const values = (ms: Array<{ value: string }>) => ms.map((m) => m.value);

describe('topics: publish, fetch, ack, nack', () => {
  it('publishes at offsets from 0 with ids <topic>/<offset>, and delivers them once leased', () => {
    const h = new Harness();
    expect(h.publish('orders', 'a', null, 5, { b: '2', a: '1' })).toEqual({ op: 'topic-publish', topic: 'orders', id: 'orders/0', offset: 0, revision: 1 });
    expect(h.publish('orders', 'b')).toMatchObject({ id: 'orders/1', offset: 1 });
    expect(h.publish('other', 'x')).toMatchObject({ id: 'other/0', offset: 0 });
    const got = h.fetch('orders', 'g', 'c1', 10);
    expect(got).toEqual([
      { id: 'orders/0', offset: 0, key: null, value: 'a', headers: { a: '1', b: '2' }, attempt: 1 },
      { id: 'orders/1', offset: 1, key: null, value: 'b', headers: {}, attempt: 1 },
    ]);
    expect(Object.keys(got[0].headers)).toEqual(['a', 'b']);
    // Leased: nothing more for anyone until the visibility timeout.
    expect(h.fetch('orders', 'g', 'c2', 10, 999)).toEqual([]);
    expect(h.info('orders')).toEqual({ topic: 'orders', startOffset: 0, endOffset: 2, groups: [{ group: 'g', committed: 0, lag: 2, inFlight: 2 }] });
  });

  it('acks advance committed over contiguous acknowledged offsets; acking twice is acked, unknown ids are unknown', () => {
    const h = new Harness();
    for (const v of ['a', 'b', 'c']) h.publish('t', v);
    h.fetch('t', 'g', 'c', 10);
    expect(h.ack('t', 'g', ['t/1'])).toEqual({ op: 'topic-ack', topic: 't', group: 'g', acked: ['t/1'], unknown: [], revision: 5 });
    expect(h.info('t')?.groups).toEqual([{ group: 'g', committed: 0, lag: 2, inFlight: 2 }]);
    expect(h.ack('t', 'g', ['t/0', 't/1', 't/9', 'x/2', 't/01', 'garbage'])).toMatchObject({
      acked: ['t/0', 't/1'],
      unknown: ['t/9', 'x/2', 't/01', 'garbage'],
    });
    expect(h.info('t')?.groups).toEqual([{ group: 'g', committed: 2, lag: 1, inFlight: 1 }]);
    // A message never delivered to the group, another group, a missing topic: unknown.
    h.publish('t', 'd');
    expect(h.ack('t', 'g', ['t/3'])).toMatchObject({ acked: [], unknown: ['t/3'] });
    expect(h.ack('t', 'nobody', ['t/2'])).toMatchObject({ acked: [], unknown: ['t/2'] });
    expect(h.ack('nope', 'g', ['nope/0'])).toMatchObject({ acked: [], unknown: ['nope/0'] });
    expect(h.info('t')?.groups.map((g) => g.group)).toEqual(['g']); // acks create no group
    expect(h.ack('t', 'g', ['t/0', 't/2'])).toMatchObject({ acked: ['t/0', 't/2'], unknown: [] });
    expect(h.info('t')?.groups).toEqual([{ group: 'g', committed: 3, lag: 1, inFlight: 0 }]);
    expect(values(h.fetch('t', 'g', 'c', 10))).toEqual(['d']);
  });

  it('a lapsed visibility timeout redelivers with the attempt counted; a late ack still acks', () => {
    const h = new Harness();
    h.publish('t', 'a');
    expect(h.fetch('t', 'g', 'c1', 1, 0, 500)).toMatchObject([{ attempt: 1 }]);
    expect(h.fetch('t', 'g', 'c2', 1, 499, 500)).toEqual([]);
    expect(h.fetch('t', 'g', 'c2', 1, 500, 500)).toMatchObject([{ id: 't/0', attempt: 2 }]);
    expect(h.fetch('t', 'g', 'c3', 1, 1000, 500)).toMatchObject([{ id: 't/0', attempt: 3 }]);
    expect(h.ack('t', 'g', ['t/0'])).toMatchObject({ acked: ['t/0'] }); // from c1, long after its lease
    expect(h.fetch('t', 'g', 'c3', 1, 5000)).toEqual([]);
  });

  it('nack gives deliveries back after delayMs (attempt counted); an unleased or acked id is unknown', () => {
    const h = new Harness();
    h.publish('t', 'a');
    h.publish('t', 'b');
    h.fetch('t', 'g', 'c', 1, 0, 60_000);
    expect(h.nack('t', 'g', ['t/0', 't/1'], 10, 100)).toEqual({ op: 'topic-nack', topic: 't', group: 'g', nacked: ['t/0'], unknown: ['t/1'], revision: 4 });
    expect(values(h.fetch('t', 'g', 'c', 5, 109))).toEqual(['b']);
    expect(h.fetch('t', 'g', 'c', 5, 110)).toMatchObject([{ id: 't/0', attempt: 2 }]);
    h.ack('t', 'g', ['t/0']);
    expect(h.nack('t', 'g', ['t/0'])).toMatchObject({ nacked: [], unknown: ['t/0'] });
  });

  it('competing consumers of a group get disjoint deliveries; another group gets everything again', () => {
    const h = new Harness();
    for (let i = 0; i < 10; i++) h.publish('t', `m${i}`);
    const a = h.fetch('t', 'g', 'a', 4);
    const b = h.fetch('t', 'g', 'b', 4);
    const c = h.fetch('t', 'g', 'c', 4);
    expect(values(a)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(values(b)).toEqual(['m4', 'm5', 'm6', 'm7']);
    expect(values(c)).toEqual(['m8', 'm9']);
    expect(values(h.fetch('t', 'other', 'z', 100))).toHaveLength(10);
  });

  it('fetching a topic never published to creates nothing; the group starts at the topic start when it exists', () => {
    const h = new Harness({ topicRetainMessages: 2 });
    expect(h.fetch('t', 'g', 'c', 5)).toEqual([]);
    expect(h.info('t')).toBeNull();
    for (const v of ['a', 'b', 'c']) h.publish('t', v);
    expect(h.fetch('t', 'g', 'c', 5)).toMatchObject([{ id: 't/1' }, { id: 't/2' }]);
  });
});

describe('topics: per-key order', () => {
  it("a key's next message waits until the one before it is acknowledged; other keys and null keys flow", () => {
    const h = new Harness();
    h.publish('t', 'k1-a', 'k1');
    h.publish('t', 'k2-a', 'k2');
    h.publish('t', 'k1-b', 'k1');
    h.publish('t', 'n-a', null);
    h.publish('t', 'n-b', null);
    h.publish('t', 'k2-b', 'k2');
    expect(values(h.fetch('t', 'g', 'c1', 10))).toEqual(['k1-a', 'k2-a', 'n-a', 'n-b']);
    // k1-b and k2-b wait for their predecessors, whoever asks.
    expect(h.fetch('t', 'g', 'c2', 10)).toEqual([]);
    h.ack('t', 'g', ['t/0']);
    expect(values(h.fetch('t', 'g', 'c2', 10))).toEqual(['k1-b']);
    // A nacked message still blocks its key until redelivered and acknowledged.
    h.nack('t', 'g', ['t/1'], 0, 500);
    expect(h.fetch('t', 'g', 'c2', 10, 499)).toEqual([]);
    expect(values(h.fetch('t', 'g', 'c2', 10, 500))).toEqual(['k2-a']);
  });

  it('an unacknowledged message never delivered blocks its key too (max cut the scan short of it)', () => {
    const h = new Harness();
    h.publish('t', 'x', null);
    h.publish('t', 'k-a', 'k');
    h.publish('t', 'k-b', 'k');
    expect(values(h.fetch('t', 'g', 'c1', 1))).toEqual(['x']);
    expect(values(h.fetch('t', 'g', 'c2', 5))).toEqual(['k-a']);
  });

  it('an expired lease is redelivered first, in order, before the later message of its key', () => {
    const h = new Harness();
    h.publish('t', 'k-a', 'k');
    h.publish('t', 'k-b', 'k');
    h.fetch('t', 'g', 'c1', 5, 0, 100);
    expect(h.fetch('t', 'g', 'c2', 5, 100, 100)).toMatchObject([{ value: 'k-a', attempt: 2 }]);
  });
});

describe('topics: dead letters', () => {
  it('after topicMaxAttempts deliveries the next is a copy to <topic>.dlq and the group moves on', () => {
    const h = new Harness({ topicMaxAttempts: 2 });
    h.publish('t', 'poison', 'k', 0, { trace: 'x' });
    h.publish('t', 'next', 'k');
    expect(h.fetch('t', 'g', 'c', 5, 0, 100)).toMatchObject([{ value: 'poison', attempt: 1 }]);
    expect(h.fetch('t', 'g', 'c', 5, 100, 100)).toMatchObject([{ value: 'poison', attempt: 2 }]);
    // Third would exceed 2: dead-lettered, acknowledged for g, and its key's next message flows.
    expect(h.fetch('t', 'g', 'c', 5, 200, 100)).toMatchObject([{ value: 'next', attempt: 1 }]);
    expect(h.info('t')?.groups).toEqual([{ group: 'g', committed: 1, lag: 1, inFlight: 1 }]);
    expect(h.sm.topicRead('t.dlq', 0, 10)).toEqual([
      {
        id: 't.dlq/0',
        offset: 0,
        key: 'k',
        value: 'poison',
        headers: { trace: 'x', 'x-attempts': '2', 'x-original-offset': '0', 'x-original-topic': 't' },
      },
    ]);
    // Another group has its own attempts: it still gets the message.
    expect(h.fetch('t', 'h', 'c', 1, 300)).toMatchObject([{ value: 'poison', attempt: 1 }]);
    // The dead letter topic is a topic like any other.
    expect(h.fetch('t.dlq', 'ops', 'c', 5, 300)).toMatchObject([{ id: 't.dlq/0', value: 'poison' }]);
  });
});

describe('topics: retention', () => {
  it('by count: the oldest go, and groups behind the new start move up (their state below it dropped)', () => {
    const h = new Harness({ topicRetainMessages: 3 });
    for (let i = 0; i < 3; i++) h.publish('t', `m${i}`);
    h.fetch('t', 'g', 'c', 2); // m0, m1 in flight
    h.publish('t', 'm3');
    h.publish('t', 'm4'); // m0 and m1 go
    expect(h.info('t')).toEqual({ topic: 't', startOffset: 2, endOffset: 5, groups: [{ group: 'g', committed: 2, lag: 3, inFlight: 0 }] });
    expect(h.ack('t', 'g', ['t/0', 't/1'])).toMatchObject({ acked: [], unknown: ['t/0', 't/1'] });
    expect(values(h.fetch('t', 'g', 'c', 10))).toEqual(['m2', 'm3', 'm4']);
    expect(values(h.sm.topicRead('t', 0, 10))).toEqual(['m2', 'm3', 'm4']);
  });

  it('an acknowledged offset right at the new start lets committed move past it', () => {
    const h = new Harness({ topicRetainMessages: 2 });
    h.publish('t', 'm0');
    h.publish('t', 'm1');
    h.fetch('t', 'g', 'c', 2);
    h.ack('t', 'g', ['t/1']);
    h.publish('t', 'm2'); // m0 goes: committed 0 -> 1, and 1 is acknowledged -> 2
    expect(h.info('t')?.groups).toEqual([{ group: 'g', committed: 2, lag: 1, inFlight: 0 }]);
  });

  it('by age: messages published more than topicRetainMs before the latest go', () => {
    const h = new Harness({ topicRetainMs: 1000 });
    h.publish('t', 'old', null, 0);
    h.publish('t', 'mid', null, 500);
    h.fetch('t', 'g', 'c', 1, 600);
    h.publish('t', 'new', null, 1200); // 0 < 1200 - 1000: old goes; mid (500) stays
    expect(h.info('t')).toMatchObject({ startOffset: 1, endOffset: 3, groups: [{ committed: 1, lag: 2, inFlight: 0 }] });
    h.publish('t', 'newer', null, 5000);
    expect(values(h.sm.topicRead('t', 0, 10))).toEqual(['newer']);
  });

  it('compacts its storage as it drops, keeping offsets right', () => {
    const h = new Harness({ topicRetainMessages: 10 });
    for (let i = 0; i < 5000; i++) h.publish('t', `m${i}`);
    expect(h.info('t')).toMatchObject({ startOffset: 4990, endOffset: 5000 });
    expect(h.sm.topicMessageCount).toBe(10);
    expect(h.sm.topicRead('t', 4995, 2)).toMatchObject([{ id: 't/4995', value: 'm4995' }, { value: 'm4996' }]);
    expect(h.fetch('t', 'g', 'c', 1)).toMatchObject([{ id: 't/4990', value: 'm4990' }]);
  });
});

describe('topics: retries are exactly once', () => {
  it('a retried publish (same request id and fingerprint) publishes once and answers the first result', () => {
    const h = new Harness();
    const first = h.run({ op: 'topic-publish', topic: 't', key: null, value: 'a', headers: null, now: 0 }, 'p/1', 'fp');
    const again = h.run({ op: 'topic-publish', topic: 't', key: null, value: 'a', headers: null, now: 9 }, 'p/1', 'fp');
    expect(again).toEqual(first);
    expect(h.info('t')?.endOffset).toBe(1);
    expect(h.run({ op: 'topic-publish', topic: 't', key: null, value: 'b', headers: null, now: 0 }, 'p/1', 'other')).toMatchObject({ op: 'conflict', key: '' });
  });

  it('a retried fetch returns the same deliveries and leases nothing more', () => {
    const h = new Harness();
    h.publish('t', 'a');
    h.publish('t', 'b');
    const cmd: TopicCommand = { op: 'topic-fetch', topic: 't', group: 'g', consumer: 'c', max: 1, visibilityMs: 1000, now: 0 };
    const first = h.run(cmd, 'f/1');
    expect(h.run(cmd, 'f/1')).toEqual(first);
    expect(values(h.fetch('t', 'g', 'c', 5))).toEqual(['b']);
  });
});

describe('topics: snapshot and digest', () => {
  function busy(opts?: KvOptions): Harness {
    const h = new Harness({ topicMaxAttempts: 2, topicRetainMessages: 50, ...opts });
    for (let i = 0; i < 60; i++) h.publish(`t${i % 2}`, `m${i}`, i % 3 === 0 ? null : `k${i % 5}`, i, i % 4 === 0 ? { n: String(i) } : null);
    h.fetch('t0', 'g', 'a', 5, 100, 100);
    h.fetch('t0', 'g', 'b', 5, 100, 100);
    h.fetch('t0', 'h', 'a', 3, 100, 100);
    h.ack('t0', 'g', ['t0/0', 't0/2']);
    h.nack('t0', 'h', ['t0/1'], 100, 50);
    h.fetch('t0', 'g', 'a', 5, 300, 100);
    h.fetch('t0', 'g', 'a', 5, 500, 100); // dead letters some
    h.fetch('t1', 'g', 'a', 7, 500, 100);
    return h;
  }

  it('restore gives the identical digest and the identical next fetch results', () => {
    const h = busy();
    const snap = h.sm.snapshot();
    const r = new Harness({ topicMaxAttempts: 2, topicRetainMessages: 50 }, KvStateMachine.restore(snap, { topicMaxAttempts: 2, topicRetainMessages: 50 }));
    r.seq = h.seq;
    expect(r.sm.digest()).toBe(h.sm.digest());
    expect(Buffer.from(r.sm.snapshot()).equals(Buffer.from(snap))).toBe(true);
    expect(r.info('t0')).toEqual(h.info('t0'));
    expect(r.info('t0.dlq')).toEqual(h.info('t0.dlq'));
    for (const [topic, group, now] of [
      ['t0', 'g', 1000],
      ['t0', 'h', 1000],
      ['t1', 'g', 2000],
      ['t0.dlq', 'g', 0],
    ] as const) {
      expect(r.fetch(topic, group, 'z', 50, now)).toEqual(h.fetch(topic, group, 'z', 50, now));
    }
    expect(r.publish('t0', 'x', 'k1', 3000)).toEqual(h.publish('t0', 'x', 'k1', 3000));
    expect(r.sm.digest()).toBe(h.sm.digest());
  });

  it('a retried topic command answers the same bytes from a restored replica', () => {
    const h = new Harness();
    h.publish('t', 'a', 'k', 0, { z: '1', a: '2' });
    const cmd: TopicCommand = { op: 'topic-fetch', topic: 't', group: 'g', consumer: 'c', max: 5, visibilityMs: 1000, now: 0 };
    const first = h.run(cmd, 'f/1');
    const acked = h.run({ op: 'topic-ack', topic: 't', group: 'g', ids: ['t/0', 't/7'] }, 'f/2');
    const nacked = h.run({ op: 'topic-nack', topic: 't', group: 'g', ids: ['t/0'], delayMs: 0, now: 0 }, 'f/3');
    const pub = h.run({ op: 'topic-publish', topic: 't', key: null, value: 'b', headers: null, now: 0 }, 'f/4');
    const r = new Harness(undefined, KvStateMachine.restore(h.sm.snapshot()));
    for (const [id, c, res] of [
      ['f/1', cmd, first],
      ['f/2', { op: 'topic-ack', topic: 't', group: 'g', ids: [] }, acked],
      ['f/3', { op: 'topic-nack', topic: 't', group: 'g', ids: [], delayMs: 0, now: 0 }, nacked],
      ['f/4', { op: 'topic-publish', topic: 't', key: null, value: 'b', headers: null, now: 0 }, pub],
    ] as Array<[string, TopicCommand, KvResult]>) {
      const again = r.run(c, id);
      expect(Buffer.from(packr.pack(again)).equals(Buffer.from(packr.pack(res)))).toBe(true);
      expect(JSON.stringify(again)).toBe(JSON.stringify(res));
    }
  });

  it('topics count in the digest: replicas that differ only in a group are told apart', () => {
    const a = busy();
    const b = busy();
    expect(a.sm.digest()).toBe(b.sm.digest());
    b.ack('t1', 'g', ['t1/0']);
    a.ack('t1', 'g', ['t1/1']);
    expect(a.sm.digest()).not.toBe(b.sm.digest());
  });

  it('old snapshots (v5, no topics) still restore, with no topics', () => {
    const v5 = packr.pack(['synod-kv', 5, 3, ['a', '1', 2, 2, 1, null], [], Buffer.alloc(0), 3, [], []]);
    const r = KvStateMachine.restore(v5);
    expect(r.get('a')).toMatchObject({ value: '1' });
    expect(r.topicInfo('t')).toBeNull();
    expect(packr.unpack(r.snapshot())[1]).toBe(6);
  });

  it('a malformed topics section is refused', () => {
    const good = busy().sm.snapshot();
    const root = packr.unpack(good) as unknown[];
    const withTopics = (t: unknown) => packr.pack([...root.slice(0, 9), t]);
    expect(() => KvStateMachine.restore(withTopics(['b', 0, ['k', 'v', [], 0], [], 'a', 0, ['k', 'v', [], 0], []]))).toThrow(/sorted/);
    expect(() => KvStateMachine.restore(withTopics(['a', 0, [], []]))).toThrow(/no messages/);
    expect(() => KvStateMachine.restore(withTopics(['a', 0, ['k', 'v', [], 0], ['g', 5, [], []]]))).toThrow(/committed/);
    expect(() => KvStateMachine.restore(withTopics(['a', 0, ['k', 'v', [], 0], ['g', 0, [], [0, 'c', 0, 0]]]))).toThrow(/pending/);
  });
});

describe('topics: queries', () => {
  it('topic and topic-read answers', () => {
    const h = new Harness();
    h.publish('t', 'a', 'k', 0, { h: '1' });
    h.publish('t', 'b');
    expect(answerQuery(h.sm, { op: 'topic', topic: 't' })).toEqual({ items: [], topic: { topic: 't', startOffset: 0, endOffset: 2, groups: [] } });
    expect(answerQuery(h.sm, { op: 'topic', topic: 'none' })).toEqual({ items: [], topic: null });
    expect(answerQuery(h.sm, { op: 'topic-read', topic: 't', from: 1, limit: 5 })).toEqual({
      items: [],
      messages: [{ id: 't/1', offset: 1, key: null, value: 'b', headers: {} }],
    });
    expect(answerQuery(h.sm, { op: 'topic-read', topic: 'none', from: 0, limit: 5 })).toEqual({ items: [], messages: [] });
    expect(answerQuery(h.sm, { op: 'topic-read', topic: 't', from: -1, limit: 5 })).toBeNull();
    expect(answerQuery(h.sm, { op: 'topic-read', topic: 't', from: 0, limit: 0 })).toBeNull();
    // Reading leases nothing.
    expect(h.fetch('t', 'g', 'c', 5)).toHaveLength(2);
  });

  it('topic-read returns at most 1000', () => {
    const h = new Harness();
    for (let i = 0; i < 1001; i++) h.publish('t', String(i));
    expect(h.sm.topicRead('t', 0, 5000)).toHaveLength(1000);
  });
});

describe('topics: validation', () => {
  const bad = (cmd: Record<string, unknown>, field: RegExp) => {
    let err: unknown;
    try {
      encodeRequest({ id: 'x', ts: 0, cmd: cmd as unknown as TopicCommand });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KvValidationError);
    expect((err as KvValidationError).field).toMatch(field);
  };
  const publish = { op: 'topic-publish', topic: 't', key: null, value: 'v', headers: null, now: 0 };
  const fetch = { op: 'topic-fetch', topic: 't', group: 'g', consumer: 'c', max: 1, visibilityMs: 100, now: 0 };
  const ack = { op: 'topic-ack', topic: 't', group: 'g', ids: [] };
  const nack = { op: 'topic-nack', topic: 't', group: 'g', ids: [], delayMs: 0, now: 0 };

  it('refuses what the log must never carry', () => {
    bad({ ...publish, topic: 'a/b' }, /^cmd.topic$/);
    bad({ ...publish, topic: '' }, /^cmd.topic$/);
    bad({ ...publish, topic: 'x'.repeat(201) }, /^cmd.topic$/);
    bad({ ...publish, key: '' }, /^cmd.key$/);
    bad({ ...publish, value: 5 }, /^cmd.value$/);
    bad({ ...publish, headers: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`h${i}`, 'v'])) }, /^cmd.headers$/);
    bad({ ...publish, headers: { a: 1 } }, /^cmd.headers.a$/);
    bad({ ...publish, headers: { a: 'x'.repeat(5000) } }, /^cmd.headers.a$/);
    bad({ ...publish, now: -1 }, /^cmd.now$/);
    bad({ ...publish, now: 1.5 }, /^cmd.now$/);
    bad({ ...fetch, group: 'g/1' }, /^cmd.group$/);
    bad({ ...fetch, consumer: '' }, /^cmd.consumer$/);
    bad({ ...fetch, consumer: 'c'.repeat(201) }, /^cmd.consumer$/);
    bad({ ...fetch, max: 0 }, /^cmd.max$/);
    bad({ ...fetch, max: 1001 }, /^cmd.max$/);
    bad({ ...fetch, visibilityMs: 99 }, /^cmd.visibilityMs$/);
    bad({ ...fetch, visibilityMs: 3_600_001 }, /^cmd.visibilityMs$/);
    bad({ ...ack, ids: Array.from({ length: 1001 }, (_, i) => `t/${i}`) }, /^cmd.ids$/);
    bad({ ...ack, ids: [3] }, /^cmd.ids\[0\]$/);
    bad({ ...nack, delayMs: 3_600_001 }, /^cmd.delayMs$/);
    bad({ ...nack, delayMs: -1 }, /^cmd.delayMs$/);
  });

  it('accepts the bounds, a dead letter topic of a long name, and headers in any order (kept sorted)', () => {
    const ok = (cmd: Record<string, unknown>) => decodeRequest(encodeRequest({ id: 'x', ts: 0, cmd: cmd as unknown as TopicCommand })).cmd;
    expect(ok({ ...fetch, topic: 'A-z_0.9', max: 1000, visibilityMs: 3_600_000 })).toMatchObject({ max: 1000 });
    expect(ok({ ...publish, topic: `${'x'.repeat(200)}.dlq` })).toMatchObject({ op: 'topic-publish' });
    expect(Object.keys((ok({ ...publish, headers: { z: '1', a: '2' } }) as { headers: object }).headers)).toEqual(['a', 'z']);
    expect(ok({ ...nack, ids: ['t/0'], delayMs: 3_600_000 })).toEqual({ op: 'topic-nack', topic: 't', group: 'g', ids: ['t/0'], delayMs: 3_600_000, now: 0 });
  });
});
