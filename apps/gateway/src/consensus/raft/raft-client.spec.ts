import type { KvRequest, KvResult } from '@app/consensus/kv';
import { bodiesOf, type ProposeBody, type ReadBody } from '@app/wire';
import type { FramePort } from '../../bus/gateway-bus';
import { ConsensusClosedError, ConsensusTimeoutError, ConsensusUnavailableError } from '../errors';
import type { LeaderSource } from './leader-source';
import { RaftClient, type RaftClientOptions } from './raft-client';

type Sent = { to: string; body: ProposeBody | ReadBody };

class FakePort implements FramePort {
  readonly self = 'gw-test';
  /** Every body sent, those that shared a frame (ManyBody) one by one. */
  readonly sent: Sent[] = [];
  /** The frames themselves. */
  readonly frames: Array<{ to: string; body: unknown }> = [];
  batches = 0;
  send(to: string, body: unknown): void {
    this.frames.push({ to, body });
    for (const b of bodiesOf(body) ?? []) this.sent.push({ to, body: b as ProposeBody | ReadBody });
  }
  batch(fn: () => void): void {
    this.batches++;
    fn();
  }
  proposals(): Array<{ to: string; body: ProposeBody }> {
    return this.sent.filter((s): s is { to: string; body: ProposeBody } => s.body.t === 'propose');
  }
  /** The propose frames sent since the last take. */
  take(): Array<{ to: string; body: ProposeBody }> {
    const out = this.proposals();
    this.sent.splice(0);
    return out;
  }
}

class FakeLeaders implements LeaderSource {
  current: string | null = 'n1';
  alive = ['n1', 'n2', 'n3'];
  private readonly listeners: Array<(l: string) => void> = [];
  leader(): string | null {
    return this.current;
  }
  aliveNodes(): string[] {
    return this.alive;
  }
  isMember(id: string): boolean {
    return ['n1', 'n2', 'n3'].includes(id);
  }
  noQuorum = false;
  quorumUnreachable(): boolean {
    return this.noQuorum;
  }
  onLeader(l: (leader: string) => void): void {
    this.listeners.push(l);
  }
  elect(id: string): void {
    this.current = id;
    for (const l of this.listeners) l(id);
  }
}

const put = (id: string, key = 'k', value = 'v'): KvRequest => ({ id, ts: 1, cmd: { op: 'put', key, value } });
const resultOf = (r: KvRequest, revision: number): KvResult => ({
  op: 'put',
  key: (r.cmd as { key: string }).key,
  value: (r.cmd as { value: string }).value,
  revision,
});
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

let port: FakePort;
let leaders: FakeLeaders;
let client: RaftClient;

function make(opts: Partial<RaftClientOptions> = {}): RaftClient {
  port = new FakePort();
  leaders = new FakeLeaders();
  client = new RaftClient(port, leaders, { requestTimeoutMs: 400, attemptTimeoutMs: 100, maxBatchRequests: 100, refusalBackoffMs: 20, ...opts });
  return client;
}

/** Answers every propose frame sent so far that has not been answered, as a leader would. */
function answerAll(from = 'n1', revision = { n: 0 }): void {
  for (const s of port.take()) {
    client.onReply(from, { t: 'result', corr: s.body.corr, results: s.body.requests.map((r) => resultOf(r, ++revision.n)) });
  }
}

afterEach(() => client?.close());

describe('RaftClient', () => {
  it('sends the writes of one event-loop turn as one propose frame, split at maxBatchRequests', async () => {
    make({ maxBatchRequests: 3 });
    const calls = Array.from({ length: 7 }, (_, i) => client.submit(put(`r${i}`, `k${i}`)));
    await turn();
    const frames = port.proposals();
    expect(frames.map((f) => f.body.requests.length)).toEqual([3, 3, 1]);
    expect(frames.every((f) => f.to === 'n1')).toBe(true);
    expect(port.batches).toBe(1); // one pipeline for all of them
    expect(frames.flatMap((f) => f.body.requests.map((r) => r.id))).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    answerAll();
    const results = await Promise.all(calls);
    expect(results.map((r) => (r as { key: string }).key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    expect(client.stats()).toMatchObject({ frames: { propose: 3 }, proposedRequests: 7, inFlight: 0 });
  });

  it('sends what one turn has for one replica — proposals and reads — in one frame', async () => {
    make({ maxBatchRequests: 3 });
    const writes = Array.from({ length: 4 }, (_, i) => client.submit(put(`w${i}`, `k${i}`)));
    const reads = Array.from({ length: 5 }, (_, i) => client.read(`r${i}`, { op: 'get', key: `k${i}` }, 'linearizable'));
    await turn();
    expect(port.frames).toHaveLength(1);
    expect(port.frames[0]).toMatchObject({ to: 'n1', body: { t: 'many' } });
    expect(port.sent.map((s) => s.body.t)).toEqual(['propose', 'propose', 'read', 'read', 'read', 'read', 'read']);
    for (const s of port.sent) {
      if (s.body.t === 'read') client.onReply('n1', { t: 'read-result', corr: s.body.corr, items: [], appliedIndex: 4 });
    }
    answerAll();
    expect(await Promise.all(writes)).toHaveLength(4);
    expect((await Promise.all(reads)).map((r) => r.revision)).toEqual([4, 4, 4, 4, 4]);
  });

  it('holds writes while the leader has maxInflightFrames unanswered, then sends them together', async () => {
    make({ maxInflightFrames: 1 });
    const first = client.submit(put('a'));
    await turn();
    const later = [client.submit(put('b')), client.submit(put('c'))];
    await turn();
    const c = client.submit(put('d'));
    await turn();
    expect(port.proposals().map((p) => p.body.requests.map((r) => r.id))).toEqual([['a']]);
    answerAll();
    await first;
    await turn();
    expect(port.proposals().map((p) => p.body.requests.map((r) => r.id))).toEqual([['b', 'c', 'd']]);
    answerAll();
    await Promise.all([...later, c]);
  });

  it('follows a redirect to the named leader at once', async () => {
    make();
    const p = client.submit(put('r1'));
    await turn();
    const [first] = port.take();
    client.onReply('n1', { t: 'redirect', corr: first.body.corr, leader: 'n2', reason: 'not-leader' });
    await turn();
    const [second] = port.proposals();
    expect(second.to).toBe('n2');
    expect(second.body.requests[0].id).toBe('r1');
    answerAll('n2');
    await expect(p).resolves.toMatchObject({ op: 'put', key: 'k' });
    expect(client.stats().redirects).toEqual({ 'not-leader': 1 });
  });

  it('ignores a redirect hint naming a node outside the cluster', async () => {
    make();
    const p = client.submit(put('r1'));
    await turn();
    const [first] = port.take();
    client.onReply('n1', { t: 'redirect', corr: first.body.corr, leader: 'evil', reason: 'not-leader' });
    await tick(40);
    expect(port.proposals().map((s) => s.to)).toEqual(['n1']);
    answerAll();
    await p;
  });

  it('resends the same request id after an unanswered attempt, and takes a late answer to the first', async () => {
    make();
    const p = client.submit(put('r1'));
    await tick(150); // one attempt timeout passed
    const frames = port.proposals();
    expect(frames.length).toBe(2);
    expect(frames.map((f) => f.body.requests[0].id)).toEqual(['r1', 'r1']);
    expect(frames[0].body.corr).not.toBe(frames[1].body.corr);
    // the answer to the first frame arrives late: it is the answer
    client.onReply('n1', { t: 'result', corr: frames[0].body.corr, results: [resultOf(put('r1'), 7)] });
    await expect(p).resolves.toMatchObject({ revision: 7 });
    expect(client.stats().retries).toBe(1);
    // the second frame's answer now finds nobody waiting
    client.onReply('n1', { t: 'result', corr: frames[1].body.corr, results: [resultOf(put('r1'), 7)] });
    expect(client.stats().lateReplies).toBe(1);
  });

  it('moves to a new leader after an unanswered attempt', async () => {
    make();
    const p = client.submit(put('r1'));
    await turn();
    leaders.current = 'n3';
    await tick(120);
    expect(port.proposals().map((f) => f.to)).toEqual(['n1', 'n3']);
    client.onReply('n3', { t: 'result', corr: port.proposals()[1].body.corr, results: [resultOf(put('r1'), 1)] });
    await p;
  });

  it('ends unavailable (nothing sent) when no leader is known until the deadline', async () => {
    make();
    leaders.current = null;
    const err = await client.submit(put('r1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsensusUnavailableError);
    expect((err as ConsensusUnavailableError).reason).toBe('no leader known');
    expect(port.sent).toHaveLength(0);
    expect(client.stats().unavailable).toBe(1);
  });

  it('a waiting request goes as soon as a leader is announced', async () => {
    make({ leaderPollMs: 10_000 }); // only the announcement can wake it
    leaders.current = null;
    const p = client.submit(put('r1'));
    await tick(30);
    expect(port.sent).toHaveLength(0);
    leaders.elect('n2');
    await turn();
    expect(port.proposals().map((f) => f.to)).toEqual(['n2']);
    answerAll('n2');
    await p;
  });

  it('ends unavailable when every attempt was refused (no quorum), with the reason', async () => {
    make();
    const p = client.submit(put('r1')).catch((e: unknown) => e);
    const refuse = setInterval(() => {
      for (const f of port.take()) client.onReply('n1', { t: 'redirect', corr: f.body.corr, leader: null, reason: 'no-quorum' });
    }, 5);
    const err = await p;
    clearInterval(refuse);
    expect(err).toBeInstanceOf(ConsensusUnavailableError);
    expect((err as ConsensusUnavailableError).reason).toBe('no-quorum');
    expect(client.stats().redirects['no-quorum']).toBeGreaterThan(3); // kept trying, with a pause between
    expect(client.stats().redirects['no-quorum']).toBeLessThan(30);
  });

  it('ends with an unknown outcome (timeout) when an attempt went unanswered', async () => {
    make();
    const err = await client.submit(put('r1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsensusTimeoutError);
    expect((err as ConsensusTimeoutError).requestId).toBe('r1');
    expect(port.proposals().length).toBeGreaterThanOrEqual(3);
    expect(client.stats()).toMatchObject({ timedOut: 1, inFlight: 0 });
  });

  it('a frame answered for only some of its requests sends the rest again', async () => {
    make();
    const a = client.submit(put('a'));
    const b = client.submit(put('b'));
    await turn();
    const [f] = port.take();
    client.onReply('n1', { t: 'result', corr: f.body.corr, results: [resultOf(put('a'), 1)] });
    await expect(a).resolves.toMatchObject({ revision: 1 });
    await turn();
    expect(port.proposals().map((p) => p.body.requests.map((r) => r.id))).toEqual([['b']]);
    answerAll('n1', { n: 1 });
    await expect(b).resolves.toMatchObject({ revision: 2 });
  });

  it('reads go one per frame; a stale read without a leader goes to an alive node, then another', async () => {
    make();
    const lin = client.read('q1', { op: 'get', key: 'k' }, 'linearizable');
    await turn();
    const [read] = port.sent.splice(0);
    expect(read).toEqual({ to: 'n1', body: { t: 'read', corr: expect.any(String), consistency: 'linearizable', query: { op: 'get', key: 'k' } } });
    const item = { key: 'k', value: 'v', revision: 3, createRevision: 2, modRevision: 3, version: 2 };
    client.onReply('n1', { t: 'read-result', corr: read.body.corr, items: [item], appliedIndex: 3 });
    await expect(lin).resolves.toEqual({ items: [item], revision: 3 });

    leaders.current = null;
    leaders.alive = ['n2', 'n3'];
    const stale = client.read('q2', { op: 'list', prefix: '', limit: 10 }, 'stale');
    await tick(130);
    const targets = port.sent.map((s) => s.to);
    expect(targets.length).toBe(2);
    expect(targets.every((t) => t === 'n2' || t === 'n3')).toBe(true);
    expect(targets[0]).not.toBe(targets[1]);
    client.onReply(targets[1], { t: 'read-result', corr: port.sent[1].body.corr, items: [], appliedIndex: 0 });
    await expect(stale).resolves.toEqual({ items: [], revision: 0 });
  });

  it('drops replies that are not well-formed, without settling anything', async () => {
    make();
    const p = client.submit(put('r1'));
    await turn();
    const [f] = port.proposals();
    for (const junk of [
      null,
      'x',
      { t: 'result' },
      { t: 'result', corr: f.body.corr, results: 'no' },
      { t: 'read-result', corr: f.body.corr, items: [{ key: 1 }] },
      { t: 'nope', corr: f.body.corr },
    ]) {
      client.onReply('n1', junk);
    }
    client.onReply('n1', { t: 'result', corr: f.body.corr, results: [{ op: 'put', key: 'k', value: 'v', revision: 9 }] });
    await expect(p).resolves.toMatchObject({ revision: 9 });
  });

  it('with no quorum reachable, answers unavailable at once and sends nothing; a stale read still goes', async () => {
    make();
    leaders.noQuorum = true;
    const started = Date.now();
    const err = await client.submit(put('r1')).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(50); // the deadline is 400 ms
    expect(err).toBeInstanceOf(ConsensusUnavailableError);
    expect((err as ConsensusUnavailableError).reason).toBe('no quorum reachable');
    await expect(client.read('q1', { op: 'get', key: 'k' }, 'linearizable')).rejects.toBeInstanceOf(ConsensusUnavailableError);
    expect(port.sent).toHaveLength(0);
    expect(client.stats().unavailable).toBe(2);

    const stale = client.read('q2', { op: 'get', key: 'k' }, 'stale');
    await turn();
    expect(port.sent.map((s) => s.body.t)).toEqual(['read']);
    client.onReply('n1', { t: 'read-result', corr: port.sent[0].body.corr, items: [], appliedIndex: 0 });
    await expect(stale).resolves.toEqual({ items: [], revision: 0 });
  });

  it('an election with a quorum alive keeps waiting; a waiting request ends at once when the quorum goes', async () => {
    make({ leaderPollMs: 10 });
    leaders.current = null;
    const started = Date.now();
    const p = client.submit(put('r1')).catch((e: unknown) => e);
    await tick(100);
    expect(port.sent).toHaveLength(0); // still waiting for a leader: no 503 while merely electing
    leaders.noQuorum = true;
    const err = await p;
    expect(Date.now() - started).toBeLessThan(250); // well before the 400 ms deadline
    expect((err as ConsensusUnavailableError).reason).toBe('no quorum reachable');
  });

  it('a refused request ends at once when the quorum goes; one with an unanswered attempt still waits for its fate', async () => {
    make();
    const refused = client.submit(put('a')).catch((e: unknown) => e);
    await turn();
    const [f] = port.take();
    leaders.noQuorum = true;
    client.onReply('n1', { t: 'redirect', corr: f.body.corr, leader: null, reason: 'no-quorum' });
    expect(await refused).toBeInstanceOf(ConsensusUnavailableError);

    leaders.noQuorum = false;
    const started = Date.now();
    const unknown = client.submit(put('b')).catch((e: unknown) => e);
    await turn();
    leaders.noQuorum = true; // the frame went out and was never answered: it may have been applied
    expect(await unknown).toBeInstanceOf(ConsensusTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('close() rejects whatever waits and refuses new calls', async () => {
    make();
    const p = client.submit(put('r1')).catch((e: unknown) => e);
    await turn();
    client.close();
    expect(await p).toBeInstanceOf(ConsensusClosedError);
    await expect(client.submit(put('r2'))).rejects.toBeInstanceOf(ConsensusClosedError);
  });
});
