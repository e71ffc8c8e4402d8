import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { redisOptions } from '@app/config';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { ApiError } from '../http/api-error';
import type { LabEventInput } from '../lab/lab-events';
import type { ScenarioAdmin } from './actions';
import { RunStore, type RunView } from './run-store';
import { ScenarioRunner } from './runner';
import type { Scenario } from './scenario';
import { SCENARIOS_QUEUE, type ScenarioJobData } from './scenarios.queue';

jest.setTimeout(30_000);

/** A cluster the fake admin breaks: the picture the runner sees follows what was done to it. */
class FakeCluster implements ScenarioAdmin {
  readonly nodes = new Map<string, { alive: boolean; isolated: boolean; byzantine: string; staleAlive: boolean }>();
  leader: string | null = 'n1';
  readonly calls: string[] = [];
  constructor(ids: string[]) {
    for (const id of ids) this.nodes.set(id, { alive: true, isolated: false, byzantine: 'none', staleAlive: false });
  }
  private node(id: string) {
    const n = this.nodes.get(id);
    if (!n) throw ApiError.notFound(`unknown node ${JSON.stringify(id)}`, { node: id });
    return n;
  }
  private elect(): void {
    if (this.leader !== null && this.nodes.get(this.leader)!.alive && !this.nodes.get(this.leader)!.isolated) return;
    this.leader = [...this.nodes].find(([, n]) => n.alive && !n.isolated)?.[0] ?? null;
  }
  kill(id: string, mode: 'soft' | 'hard'): Promise<unknown> {
    this.calls.push(`kill ${id}${mode === 'hard' ? ' hard' : ''}`);
    const n = this.node(id);
    n.alive = false;
    n.staleAlive = mode === 'hard'; // its beacons have not gone stale yet
    this.elect();
    return Promise.resolve({ id, alive: false });
  }
  revive(id: string) {
    this.calls.push(`revive ${id}`);
    Object.assign(this.node(id), { alive: true, staleAlive: false });
    return Promise.resolve({ id, alive: true });
  }
  isolate(id: string) {
    this.calls.push(`isolate ${id}`);
    this.node(id).isolated = true;
    this.elect();
    return Promise.resolve({ id });
  }
  heal(id: string) {
    this.calls.push(`heal ${id}`);
    this.node(id).isolated = false;
    return Promise.resolve({ id });
  }
  byzantine(id: string, behavior: string) {
    this.calls.push(`byzantine ${id} ${behavior}`);
    this.node(id).byzantine = behavior;
    return Promise.resolve({ id });
  }
  storage(id: string, action: 'kill' | 'restart') {
    this.calls.push(`storage-${action} ${id}`);
    return Promise.resolve({ id });
  }
  cutLink(a: string, b: string) {
    this.calls.push(`cut ${a}-${b}`);
    return Promise.resolve({ link: [a, b] });
  }
  healLink(a: string, b: string) {
    this.calls.push(`mend ${a}-${b}`);
    return Promise.resolve({ link: [a, b] });
  }
  picture() {
    const entries = [...this.nodes];
    return {
      picture: { leader: this.leader, members: entries.map(([id]) => id), usable: entries.filter(([, n]) => n.alive && !n.isolated).map(([id]) => id) },
      replicas: entries.map(([id, n]) => ({ id, alive: n.alive || n.staleAlive, isolated: n.isolated, byzantine: n.byzantine })),
    };
  }
}

const custom: Scenario[] = [
  {
    name: 'isolate-then-heal',
    title: 't',
    description: 'd',
    protocols: ['raft'],
    requires: [],
    steps: [
      { at: 0, action: 'isolate', target: 'follower', remember: 'f' },
      { at: 5_000, action: 'heal', target: '$f' },
    ],
    tailMs: 1_000,
  },
  {
    name: 'bad-target',
    title: 't',
    description: 'd',
    protocols: ['raft'],
    requires: [],
    steps: [
      { at: 0, action: 'kill', target: 'n9' },
      { at: 0, action: 'revive', target: '$never' },
    ],
    tailMs: 100,
  },
  { name: 'hard', title: 't', description: 'd', protocols: ['raft'], requires: [], steps: [{ at: 0, action: 'hard-kill', target: 'follower' }], tailMs: 300 },
  { name: 'pbft-only', title: 't', description: 'd', protocols: ['pbft'], requires: [], steps: [], tailMs: 0 },
  { name: 'needs-supervisor', title: 't', description: 'd', protocols: ['raft'], requires: ['supervisor'], steps: [], tailMs: 0 },
];

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
});
afterAll(async () => {
  await redis?.stop();
});

describe('ScenarioRunner on BullMQ', () => {
  let conn: Redis;
  let queue: Queue<ScenarioJobData>;
  let worker: Worker<ScenarioJobData>;
  let cluster: FakeCluster;
  let events: LabEventInput[];
  let runner: ScenarioRunner;
  let n = 0;

  beforeEach(() => {
    const prefix = `synod:t${++n}:bull`;
    conn = new Redis(redisOptions(redis.url).options);
    queue = new Queue(SCENARIOS_QUEUE, { connection: conn, prefix });
    cluster = new FakeCluster(['n1', 'n2', 'n3']);
    events = [];
    runner = new ScenarioRunner({
      store: new RunStore(conn, `t${n}`),
      queue,
      admin: () => cluster,
      cluster: () => cluster.picture(),
      protocol: 'raft',
      supervisor: false,
      timeline: (e) => events.push(e),
      scenarios: [...custom, ...jest.requireActual<typeof import('./catalogue')>('./catalogue').SCENARIOS],
      leaderWaitMs: 300,
      settleWaitMs: 3_000,
    });
    worker = new Worker<ScenarioJobData>(SCENARIOS_QUEUE, (job) => runner.process(job.data), {
      connection: { ...redisOptions(redis.url).options, maxRetriesPerRequest: null },
      prefix,
      concurrency: 8,
      drainDelay: 1,
      maxStalledCount: 0,
    });
  });

  afterEach(async () => {
    await worker.close(true);
    await queue.close();
    conn.disconnect();
  });

  const until = async (id: string, states: string[], ms = 10_000): Promise<RunView> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await runner.view(id);
      if (states.includes(v.state)) return v;
      if (Date.now() > deadline) throw new Error(`run ${id} still ${v.state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('kill-leader at speed 20: each kill takes whoever leads then, each revive its victim; ends done, healed, on the timeline', async () => {
    const started = await runner.start('kill-leader', 20);
    expect(started).toMatchObject({ scenario: 'kill-leader', state: 'running', speed: 20, stepCount: 12, endsAt: started.startedAt + 3000 });
    expect(started.steps.every((s) => s.status === 'pending')).toBe(true);
    const run = await until(started.id, ['done', 'failed']);
    expect(run.state).toBe('done');
    expect(run.summary).toEqual({ steps: 12, done: 12, failed: 0, cancelled: 0, healFailed: 0 });
    const kills = run.steps.filter((s) => s.action === 'kill').map((s) => s.nodes![0]);
    const revives = run.steps.filter((s) => s.action === 'revive').map((s) => s.nodes![0]);
    expect(revives).toEqual(kills);
    expect(new Set(kills).size).toBeGreaterThanOrEqual(2); // the leader changed in between
    expect(run.steps[0].outcomes).toEqual([{ action: 'kill', node: kills[0], status: 200, result: { id: kills[0], alive: false } }]);
    // Each step ran about when due (the worker's clock, not the start's).
    for (const s of run.steps) expect(s.startedAt! - run.startedAt).toBeGreaterThanOrEqual(s.at - 5);
    expect(run.heal).toEqual([]);
    expect([...cluster.nodes.values()].every((x) => x.alive)).toBe(true);
    expect(events[0]).toMatchObject({ kind: 'scenario', source: 'scenario', data: { run: run.id, scenario: 'kill-leader', state: 'running' } });
    expect(events.filter((e) => e.data?.step !== undefined)).toHaveLength(12);
    expect(events.at(-1)).toMatchObject({ data: { run: run.id, state: 'done', summary: run.summary } });
  });

  it('one run at a time (409 naming it); unknown scenario 404; wrong protocol or no supervisor 409', async () => {
    const first = await runner.start('isolate-then-heal', 1);
    await expect(runner.start('kill-leader', 20)).rejects.toMatchObject({ status: 409, problem: { run: first.id, scenario: 'isolate-then-heal' } });
    await expect(runner.start('nope', 1)).rejects.toMatchObject({ status: 404 });
    await expect(runner.start('pbft-only', 1)).rejects.toMatchObject({ status: 409, problem: { detail: expect.stringContaining('pbft') } });
    await expect(runner.start('needs-supervisor', 1)).rejects.toMatchObject({ status: 409, problem: { detail: expect.stringContaining('supervisor') } });
    await expect(runner.view('nope')).rejects.toMatchObject({ status: 404 });
    await runner.cancel(first.id);
    // The slot is free again.
    const second = await runner.start('bad-target', 1);
    await until(second.id, ['done', 'failed']);
  });

  it('cancel: what is not yet due never runs, the cluster is healed, the run ends cancelled; cancelling again is the same answer', async () => {
    const started = await runner.start('isolate-then-heal', 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(cluster.nodes.get('n2')!.isolated).toBe(true);
    const cancelled = await runner.cancel(started.id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.steps.map((s) => s.status)).toEqual(['done', 'cancelled']);
    expect(cancelled.heal).toEqual([expect.objectContaining({ action: 'heal', node: 'n2', status: 200 })]);
    expect(cluster.nodes.get('n2')!.isolated).toBe(false);
    expect(await queue.getJobCounts('delayed', 'waiting', 'active')).toMatchObject({ delayed: 0, waiting: 0, active: 0 });
    expect((await runner.cancel(started.id)).state).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ data: { state: 'cancelled' } });
  });

  it('a step that fails is recorded with the admin answer, once, never retried', async () => {
    const started = await runner.start('bad-target', 1);
    const run = await until(started.id, ['done', 'failed']);
    expect(run.state).toBe('done'); // failed steps do not fail the run; only a failed heal does
    expect(run.steps[0]).toMatchObject({
      status: 'failed',
      nodes: ['n9'],
      outcomes: [{ node: 'n9', status: 404, problem: { type: 'https://synod.dev/problems/not-found' } }],
    });
    expect(run.steps[1]).toMatchObject({ status: 'failed', error: expect.stringContaining('$never') });
    expect(cluster.calls.filter((c) => c === 'kill n9')).toHaveLength(1);
    expect(run.heal).toEqual([]); // a refused kill did nothing: nothing to undo
  });

  it('heal-all revives a hard-killed replica whose beacons still look alive (the run remembers what it did)', async () => {
    const started = await runner.start('hard', 1);
    const run = await until(started.id, ['done', 'failed']);
    expect(run.steps[0]).toMatchObject({ status: 'done', nodes: ['n2'] });
    expect(run.heal).toEqual([expect.objectContaining({ action: 'revive', node: 'n2', status: 200 })]);
    expect(cluster.calls).toEqual(['kill n2 hard', 'revive n2']);
  });
});
