import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { redisOptions } from '@app/config';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { ApiError } from '../http/api-error';
import type { LabEventInput } from '../lab/lab-events';
import type { ScenarioAdmin } from './actions';
import { RunStore, type RunView } from './run-store';
import { ScenarioRunner, type RunnerDeps } from './runner';
import type { Scenario } from './scenario';
import { SCENARIOS_QUEUE, type ScenarioJobData } from './scenarios.queue';

jest.setTimeout(30_000);

/** A cluster the fake admin breaks: the picture the runner sees follows what was done to it. */
class FakeCluster implements ScenarioAdmin {
  readonly nodes = new Map<string, { alive: boolean; isolated: boolean; byzantine: string; staleAlive: boolean }>();
  leader: string | null = 'n1';
  readonly calls: string[] = [];
  /** How long an election takes after the leader is killed (0: at once, the first live replica). */
  electionMs = 0;
  /** How long an isolate call takes before it lands. */
  isolateMs = 0;
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
    if (this.electionMs > 0 && this.leader === id) {
      // Nobody leads until the election is over; then the next live replica by id after the old leader.
      this.leader = null;
      const ids = [...this.nodes.keys()];
      setTimeout(() => {
        const order = [...ids.slice(ids.indexOf(id) + 1), ...ids.slice(0, ids.indexOf(id) + 1)];
        this.leader = order.find((x) => this.nodes.get(x)!.alive && !this.nodes.get(x)!.isolated) ?? null;
      }, this.electionMs);
    } else this.elect();
    return Promise.resolve({ id, alive: false });
  }
  revive(id: string) {
    this.calls.push(`revive ${id}`);
    Object.assign(this.node(id), { alive: true, staleAlive: false });
    return Promise.resolve({ id, alive: true });
  }
  async isolate(id: string) {
    this.calls.push(`isolate ${id}`);
    if (this.isolateMs > 0) await new Promise((r) => setTimeout(r, this.isolateMs));
    this.node(id).isolated = true;
    this.elect();
    return { id };
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
  {
    // kill k at k × 400 ms, its revive 100 ms later: a kill that waits for an election is still
    // resolving its victim when its revive is due.
    name: 'slow-election',
    title: 't',
    description: 'd',
    protocols: ['raft'],
    requires: [],
    steps: [
      { at: 0, action: 'kill', target: 'leader', remember: 'victim', repeat: { every: 400, times: 2 } },
      { at: 100, action: 'revive', target: '$victim', repeat: { every: 400, times: 2 } },
    ],
    tailMs: 300,
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
  let store: RunStore;
  let runner: ScenarioRunner;
  let n = 0;

  const makeRunner = (opts: Partial<RunnerDeps> = {}): ScenarioRunner =>
    new ScenarioRunner({
      store,
      queue,
      admin: () => cluster,
      cluster: () => cluster.picture(),
      protocol: 'raft',
      supervisor: false,
      timeline: (e) => events.push(e),
      scenarios: [...custom, ...jest.requireActual<typeof import('./catalogue')>('./catalogue').SCENARIOS],
      leaderWaitMs: 300,
      settleWaitMs: 3_000,
      ...opts,
    });

  beforeEach(() => {
    const prefix = `synod:t${++n}:bull`;
    conn = new Redis(redisOptions(redis.url).options);
    queue = new Queue(SCENARIOS_QUEUE, { connection: conn, prefix });
    cluster = new FakeCluster(['n1', 'n2', 'n3']);
    events = [];
    store = new RunStore(conn, `t${n}`);
    runner = makeRunner();
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

  /** No job left due, waiting or under way. */
  const drained = async (): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (Object.values(await queue.getJobCounts('delayed', 'waiting', 'active')).some((c) => c > 0)) {
      if (Date.now() > deadline) throw new Error(`jobs left: ${JSON.stringify(await queue.getJobCounts('delayed', 'waiting', 'active'))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

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

  it('a $name reads the node its own writer chose: a kill waiting for an election is not overtaken by its revive', async () => {
    // 0 ms: kill 1 takes n1, the leader; nobody leads until the election ends at 600 ms (n2).
    // 100 ms: revive 1 brings n1 back. 400 ms: kill 2 waits for a leader, takes n2 at ~600 ms.
    // 500 ms: revive 2 is due while kill 2 still waits: it must revive n2, not n1 again.
    cluster.electionMs = 600;
    runner = makeRunner({ leaderWaitMs: 2_000 }); // the worker calls whichever runner is current
    const started = await runner.start('slow-election', 1);
    const run = await until(started.id, ['done', 'failed']);
    const kills = run.steps.filter((s) => s.action === 'kill');
    const revives = run.steps.filter((s) => s.action === 'revive');
    expect(kills.map((s) => [s.status, s.nodes])).toEqual([
      ['done', ['n1']],
      ['done', ['n2']],
    ]);
    expect(revives.map((s) => [s.status, s.nodes])).toEqual([
      ['done', ['n1']],
      ['done', ['n2']],
    ]);
    expect(revives.map((s) => s.reads)).toEqual(kills.map((s) => ({ victim: s.index })));
    // Each revive acted after its kill had settled.
    for (const [i, r] of revives.entries()) expect(r.finishedAt!).toBeGreaterThanOrEqual(kills[i].finishedAt!);
    expect(run.heal).toEqual([]); // every victim was revived by its own revive
    expect([...cluster.nodes.values()].every((x) => x.alive)).toBe(true);
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
    await drained();
    expect((await runner.cancel(started.id)).state).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ data: { state: 'cancelled' } });
    expect(cluster.calls).toEqual(['isolate n2', 'heal n2']);
  });

  it('a run left `cancelling` (the cancelling process died before its end ran): DELETE again heals it and answers 200, cancelled', async () => {
    const started = await runner.start('isolate-then-heal', 1);
    await until(started.id, ['running']);
    await new Promise((r) => setTimeout(r, 400));
    expect(cluster.nodes.get('n2')!.isolated).toBe(true);
    // What a cancel that died right after its first move leaves: `cancelling`, its end still 5 s away.
    expect(await store.transition(started.id, ['running'], 'cancelling')).toBe('running');
    expect(await runner.view(started.id)).toMatchObject({ state: 'cancelling' });
    const again = await runner.cancel(started.id);
    expect(again).toMatchObject({ state: 'cancelled', heal: [expect.objectContaining({ action: 'heal', node: 'n2', status: 200 })] });
    expect(again.steps.map((s) => s.status)).toEqual(['done', 'cancelled']);
    expect(cluster.nodes.get('n2')!.isolated).toBe(false);
    await drained();
  });

  it('a cancel whose answer cannot wait answers `cancelling`; the end job heals anyway', async () => {
    runner = makeRunner({ cancelWaitMs: 0 });
    const started = await runner.start('isolate-then-heal', 1);
    await new Promise((r) => setTimeout(r, 400));
    const answer = await runner.cancel(started.id);
    expect(['cancelling', 'cancelled']).toContain(answer.state);
    expect((await runner.cancel(started.id)).state).toMatch(/^cancell(ing|ed)$/); // again: 200, its view
    const run = await until(started.id, ['cancelled']);
    expect(run.heal).toEqual([expect.objectContaining({ action: 'heal', node: 'n2', status: 200 })]);
    expect(cluster.nodes.get('n2')!.isolated).toBe(false);
  });

  it('a step still acting when the cancel gave up waiting for it: healed again once it has acted', async () => {
    cluster.isolateMs = 900; // the isolate lands ~900 ms in, long after the cancel's wait (300 ms)
    runner = makeRunner({ settleWaitMs: 300 });
    const started = await runner.start('isolate-then-heal', 1);
    await new Promise((r) => setTimeout(r, 100));
    const cancelled = await runner.cancel(started.id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.steps[0]).toMatchObject({ status: 'done', nodes: ['n2'] });
    expect(cancelled.heal).toEqual([expect.objectContaining({ action: 'heal', node: 'n2', status: 200 })]);
    expect(cluster.nodes.get('n2')!.isolated).toBe(false);
    expect(cancelled.summary).toMatchObject({ healFailed: 0 });
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
