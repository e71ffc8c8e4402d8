import { clusterForSuite, waitFor, type TestCluster } from './support/cluster';

/**
 * The fault lab's scenario runner (issue 15) on real processes: scenarios run through BullMQ
 * delayed jobs and the admin API, at `speed` so that a one-minute scenario takes seconds, and every
 * run — done or cancelled — leaves the cluster healed. Writes acknowledged while the faults land are
 * all readable afterwards.
 */

const scenarios = (c: TestCluster, method: string, path: string, body?: unknown) => c.http(method, `/v1/admin/scenarios${path}`, body);

/** GET the run until it is over. */
async function finished(c: TestCluster, id: string, timeoutMs = 40_000): Promise<any> {
  return waitFor(
    async () => {
      const r = await scenarios(c, 'GET', `/runs/${id}`);
      return ['done', 'failed', 'cancelled'].includes(r.body.state) ? r.body : null;
    },
    timeoutMs,
    `scenario run ${id} to end`,
  );
}

/** Every member alive, none isolated, none Byzantine, and a leader: what "healed" means. */
async function healed(c: TestCluster): Promise<any> {
  return waitFor(
    async () => {
      const s = await c.clusterState();
      const ok = s.leader !== null && s.nodes.every((n: any) => n.alive && !n.isolated && (n.byzantine ?? 'none') === 'none');
      return ok ? s : null;
    },
    20_000,
    'the cluster healed (all alive, none isolated or Byzantine, a leader)',
  );
}

/** One client writing new keys in a loop; what it was told succeeded must be readable afterwards. */
class Writer {
  readonly acked = new Map<string, string>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly c: TestCluster,
    prefix: string,
  ) {
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const key = `${prefix}/${i}`;
        const r = await this.c.put(key, `v${i}`, { 'idempotency-key': `${prefix}-${i}` }).catch(() => null);
        if (r?.status === 200) this.acked.set(key, `v${i}`);
        else await new Promise((res) => setTimeout(res, 50));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  async expectAllReadable(): Promise<void> {
    expect(this.acked.size).toBeGreaterThan(0);
    for (const [key, value] of this.acked) {
      const r = await waitFor(
        async () => {
          const g = await this.c.get(key);
          return g.status === 200 || g.status === 404 ? g : null;
        },
        20_000,
        `a read of ${key}`,
      );
      expect({ key, status: r.status, value: r.body.value }).toEqual({ key, status: 200, value });
    }
  }
}

describe('scenario runner (raft)', () => {
  const cluster = clusterForSuite(['--protocol', 'raft']);

  it('lists the catalogue; answers 404 for unknown scenarios and runs, 409 for what does not apply, 400 for a bad speed', async () => {
    const c = cluster();
    const list = await scenarios(c, 'GET', '');
    expect(list.status).toBe(200);
    const byName = new Map<string, any>(list.body.map((s: any) => [s.name, s]));
    expect(byName.get('kill-leader')).toMatchObject({
      title: expect.any(String),
      description: expect.any(String),
      protocols: ['raft', 'pbft'],
      applies: true,
      durationMs: 60_000,
      steps: ['at 0 s, every 10 s ×6: kill the leader (as $victim)', 'at 5 s, every 10 s ×6: revive $victim'],
    });
    expect(byName.get('isolate-primary-byzantine')).toMatchObject({ protocols: ['pbft'], applies: false });
    expect(byName.get('storage-crash')).toMatchObject({ requires: ['supervisor'], applies: true }); // the launcher supervises

    const unknown = await scenarios(c, 'POST', '/no-such/runs');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ type: 'https://synod.dev/problems/not-found', scenario: 'no-such' });
    const pbftOnly = await scenarios(c, 'POST', '/isolate-primary-byzantine/runs', {});
    expect(pbftOnly.status).toBe(409);
    expect(pbftOnly.body.detail).toContain('raft');
    for (const speed of [50, 0, 'fast']) {
      const bad = await scenarios(c, 'POST', '/kill-leader/runs', { speed });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ type: 'https://synod.dev/problems/invalid-field', field: 'speed' });
    }
    expect((await scenarios(c, 'GET', '/runs/no-such-run')).status).toBe(404);
    expect((await scenarios(c, 'DELETE', '/runs/no-such-run')).status).toBe(404);
  });

  it('kills the leader every 10 s for a minute, at speed 10: done, leaders changed, healed, no acknowledged write lost', async () => {
    const c = cluster();
    const writer = new Writer(c, 'kl');
    const leaders: string[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const s = await c.clusterState().catch(() => null);
        if (s?.leader && leaders.at(-1) !== s.leader) leaders.push(s.leader);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    let run: any;
    try {
      const started = await scenarios(c, 'POST', '/kill-leader/runs', { speed: 10 });
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ id: expect.any(String), scenario: 'kill-leader', state: 'running', startedAt: expect.any(Number), speed: 10 });
      expect(started.body.steps).toHaveLength(12);
      expect(started.headers.get('location')).toBe(`/v1/admin/scenarios/runs/${started.body.id}`);
      // One run at a time, and the answer says which.
      const second = await scenarios(c, 'POST', '/flap-follower/runs', { speed: 10 });
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ run: started.body.id, scenario: 'kill-leader' });
      run = await finished(c, started.body.id);
    } finally {
      polling = false;
      await poll;
      await writer.stop();
    }
    expect(run.state).toBe('done');
    const kills = run.steps.filter((s: any) => s.action === 'kill');
    expect(kills.filter((s: any) => s.status === 'done').length).toBeGreaterThanOrEqual(4);
    expect(new Set(kills.flatMap((s: any) => s.nodes ?? [])).size).toBeGreaterThanOrEqual(2);
    for (const s of run.steps.filter((x: any) => x.status === 'done')) expect(s.outcomes.every((o: any) => o.status === 200)).toBe(true);
    // Each revive acted on its own kill's victim (bound when planned, waited for when the kill was slow).
    for (const r of run.steps.filter((s: any) => s.action === 'revive' && s.status === 'done')) expect(r.nodes).toEqual(run.steps[r.reads.victim].nodes);
    expect(leaders.length - 1).toBeGreaterThanOrEqual(2); // the leader changed at least twice
    expect(run.summary).toMatchObject({ steps: 12, healFailed: 0 });
    await healed(c);
    expect((await scenarios(c, 'DELETE', `/runs/${run.id}`)).status).toBe(409); // over: nothing to cancel
    await writer.expectAllReadable();
    // The run is on the fault lab's timeline: its start, each step with its outcome, its end; and in its catalogue.
    const lab = (await c.http('GET', '/v1/lab/state')).body;
    expect(lab.scenarios.map((s: any) => s.name)).toContain('kill-leader');
    const mine = lab.timeline.filter((e: any) => e.kind === 'scenario' && e.data?.run === run.id);
    expect(mine[0]).toMatchObject({ source: 'scenario', data: { scenario: 'kill-leader', state: 'running' } });
    expect(mine.filter((e: any) => e.data.step !== undefined)).toHaveLength(12);
    expect(mine.find((e: any) => e.data.step === 0)).toMatchObject({
      node: kills[0].nodes[0],
      data: { action: 'kill', target: 'leader', status: [200], state: 'done' },
    });
    expect(mine.at(-1)).toMatchObject({ data: { state: 'done', summary: run.summary } });
  }, 60_000);

  it('a run cancelled mid-way removes what is still due and leaves the cluster healed', async () => {
    const c = cluster();
    const started = await scenarios(c, 'POST', '/partition-leader/runs', { speed: 2 });
    expect(started.status).toBe(202);
    const id = started.body.id;
    // The partition is in place (its first step done), its heal 5 s away.
    const cut = await waitFor(
      async () => {
        const r = await scenarios(c, 'GET', `/runs/${id}`);
        return r.body.steps[0].status !== 'pending' && r.body.steps[0].status !== 'running' ? r.body.steps[0] : null;
      },
      10_000,
      'the cut',
    );
    expect(cut).toMatchObject({ status: 'done', action: 'cut-link', nodes: [expect.any(String)] });
    const cancelled = await scenarios(c, 'DELETE', `/runs/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    expect(cancelled.body.steps.map((s: any) => s.status)).toEqual(['done', 'cancelled']);
    // The heal undid the links the run cut (the peers of the cut step), each with a 200.
    const peers = cut.outcomes.map((o: any) => o.peer).sort();
    expect(
      cancelled.body.heal
        .filter((o: any) => o.action === 'heal-link')
        .map((o: any) => [o.node, o.peer].sort().find((x: string) => x !== cut.nodes[0]))
        .sort(),
    ).toEqual(peers);
    expect(cancelled.body.heal.every((o: any) => o.status === 200)).toBe(true);
    expect((await scenarios(c, 'DELETE', `/runs/${id}`)).body.state).toBe('cancelled'); // again: the same answer
    await healed(c);
    expect((await c.putUntilOk('after-cancel', 'ok', 10_000)).status).toBe(200);
    // Its heal-link never runs later: the run stays as it was.
    await new Promise((r) => setTimeout(r, 500));
    expect((await scenarios(c, 'GET', `/runs/${id}`)).body.steps[1].status).toBe('cancelled');
  }, 30_000);
});

describe('scenario runner (pbft)', () => {
  const cluster = clusterForSuite(['--protocol', 'pbft']);

  it('isolates the primary, then turns a backup Byzantine: done, the view changed, healed, no Byzantine left', async () => {
    const c = cluster();
    const before = await c.clusterState();
    const writer = new Writer(c, 'pb');
    let run: any;
    try {
      const started = await scenarios(c, 'POST', '/isolate-primary-byzantine/runs', { speed: 2 });
      expect(started.status).toBe(202);
      run = await finished(c, started.body.id);
    } finally {
      await writer.stop();
    }
    expect(run.state).toBe('done');
    expect(run.steps.map((s: any) => [s.action, s.status])).toEqual([
      ['isolate', 'done'],
      ['heal', 'done'],
      ['byzantine', 'done'],
      ['byzantine', 'done'],
    ]);
    expect(run.steps[0].nodes).toEqual([before.leader]);
    expect(run.steps[1].nodes).toEqual([before.leader]);
    expect(run.steps[2].outcomes[0]).toMatchObject({ behavior: 'equivocate', status: 200 });
    expect(run.steps[3].nodes).toEqual(run.steps[2].nodes);
    const after = await healed(c);
    expect(after.view).toBeGreaterThan(before.view);
    await writer.expectAllReadable();
  }, 60_000);
});
