import { request, type ClientRequest } from 'node:http';
import { clusterForSuite, waitFor, type TestCluster } from './support/cluster';

/**
 * The fault lab's server side (issue 15) on real clusters: the Server-Sent Events stream at
 * /v1/lab/events (hello, state frames, timeline events), /v1/lab/state, and the link cut/heal
 * admin routes, read the way the page reads them.
 */

interface Frame {
  event: string;
  data: any;
  /** ms since the stream opened. */
  at: number;
}

/** A tiny SSE reader: `event:`/`data:` blocks separated by a blank line; comment lines ignored. */
class Sse {
  readonly frames: Frame[] = [];
  private buffer = '';
  private readonly opened = Date.now();
  private constructor(private readonly req: ClientRequest) {}

  static open(baseUrl: string): Promise<Sse> {
    return new Promise((resolve, reject) => {
      const req = request(`${baseUrl}/v1/lab/events`, { headers: { accept: 'text/event-stream' } });
      const sse = new Sse(req);
      req.once('error', reject);
      req.once('response', (res) => {
        if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
          reject(new Error(`GET /v1/lab/events: ${res.statusCode} ${res.headers['content-type']}`));
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => sse.feed(chunk));
        res.on('error', () => undefined); // destroyed by close()
        req.removeListener('error', reject);
        req.on('error', () => undefined);
        resolve(sse);
      });
      req.end();
    });
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) this.frames.push({ event, data: JSON.parse(data.join('\n')), at: Date.now() - this.opened });
    }
  }

  /** Timeline events (event: event) received so far, from frame index `from`. */
  events(from = 0): any[] {
    return this.frames
      .slice(from)
      .filter((f) => f.event === 'event')
      .map((f) => f.data);
  }

  states(from = 0): any[] {
    return this.frames
      .slice(from)
      .filter((f) => f.event === 'state')
      .map((f) => f.data);
  }

  get mark(): number {
    return this.frames.length;
  }

  /** The first timeline event from frame `from` on that matches; waits for it. */
  event(match: (e: any) => boolean, timeoutMs: number, what: string, from = 0): Promise<any> {
    return waitFor(async () => this.events(from).find(match) ?? null, timeoutMs, what).catch((err: Error) => {
      throw new Error(`${err.message}; events seen: ${JSON.stringify(this.events(from).map((e) => [e.kind, e.node, e.data]))}`);
    });
  }

  /** The first state frame from frame `from` on that matches; waits for it. */
  state(match: (s: any) => boolean, timeoutMs: number, what: string, from = 0): Promise<any> {
    let last: any = null;
    return waitFor(
      async () => {
        const states = this.states(from);
        last = states[states.length - 1] ?? last;
        return states.find(match) ?? null;
      },
      timeoutMs,
      what,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; last state: ${JSON.stringify(last && { nodes: last.nodes.map((n: any) => [n.id, n.role, n.alive]), links: last.links })}`,
      );
    });
  }

  close(): void {
    this.req.destroy();
  }
}

const linkOf = (state: any, x: string, y: string): any => {
  const [a, b] = [x, y].sort();
  return state.links.find((l: any) => l.a === a && l.b === b);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shape the page relies on, for hello and for GET /v1/lab/state. */
function expectHelloShape(hello: any, protocol: string, nodes: number): void {
  expect(hello).toMatchObject({
    protocol,
    cluster: expect.any(String),
    quorum: expect.any(Number),
    behaviors: expect.any(Array),
    supervisor: expect.any(Boolean),
    adminToken: false,
    scenarios: expect.any(Array),
    timeline: expect.any(Array),
    series: expect.any(Array),
    state: { at: expect.any(Number), term: expect.any(Number), nodes: expect.any(Array), links: expect.any(Array), sample: expect.any(Object) },
  });
  expect(hello.state.nodes).toHaveLength(nodes);
  for (const n of hello.state.nodes) {
    expect(n).toMatchObject({
      id: expect.any(String),
      role: expect.any(String),
      membership: 'voter',
      alive: expect.any(Boolean),
      isolated: false,
      byzantine: expect.any(String),
      term: expect.any(Number),
      log: { last: expect.any(Number), commit: expect.any(Number), applied: expect.any(Number), snapshot: expect.any(Number) },
      dropped: expect.any(Object),
      droppedTotal: expect.any(Number),
      dropRate: expect.any(Number),
    });
  }
  // A link for every pair, named a < b, once.
  const ids = hello.state.nodes.map((n: any) => n.id).sort();
  const pairs = hello.state.links.map((l: any) => `${l.a}|${l.b}`).sort();
  const expected: string[] = [];
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) expected.push(`${ids[i]}|${ids[j]}`);
  expect(pairs).toEqual(expected.sort());
  for (const l of hello.state.links) expect(l).toEqual({ a: l.a, b: l.b, cut: false, rate: expect.any(Object), dropRate: expect.any(Number) });
}

/** Rates are measured per replica over windows of a second or more (lab-state.ts): two windows and a beacon after a change, they show only what came after it. */
const SETTLE_MS = 2_600;

/** The lab's stream on `c`, once the gateway's picture holds every replica alive (it may have heard them only just now). */
async function openLab(c: TestCluster): Promise<Sse> {
  await waitFor(async () => (await c.http('GET', '/v1/lab/state')).body.state?.nodes?.every((n: any) => n.alive), 15_000, 'every replica alive in the lab');
  return Sse.open(c.url);
}

describe('fault lab on Raft (3 replicas)', () => {
  const cluster = clusterForSuite(['--protocol', 'raft', '--nodes', '3', '--node-env', 'TICK_MS=20']);
  let c: TestCluster;
  let sse: Sse;

  beforeAll(async () => {
    c = cluster();
    sse = await openLab(c);
  });
  afterAll(() => sse?.close());

  it('starts with hello: the protocol, the replicas, a link for every pair and the first election; GET /v1/lab/state answers the same shape', async () => {
    await waitFor(async () => sse.frames.length > 0, 5_000, 'the first frame');
    // The page's own files, and nothing else under /lab (not even names Object.prototype has).
    expect((await c.http('GET', '/lab/lab.js')).status).toBe(200);
    for (const name of ['constructor', '__proto__', 'toString', 'index.html', '..%2Fpackage.json'])
      expect((await c.http('GET', `/lab/${name}`)).status).toBe(404);
    const [hello] = sse.frames;
    expect(hello.event).toBe('hello');
    expectHelloShape(hello.data, 'raft', 3);
    expect(hello.data.behaviors).toEqual([]);
    const leader = await c.waitForLeader();
    expect(hello.data.state.leader).toBe(leader);
    const kinds = hello.data.timeline.map((e: any) => e.kind);
    expect(kinds).toContain('elected');
    const elected = hello.data.timeline.find((e: any) => e.kind === 'elected');
    expect(elected).toMatchObject({
      seq: expect.any(Number),
      at: expect.any(Number),
      source: 'cluster',
      node: expect.any(String),
      term: expect.any(Number),
      data: { votes: expect.any(Array) },
    });
    expect(kinds.some((k: string) => k === 'election-started' || k === 'vote')).toBe(true);

    const state = await c.http('GET', '/v1/lab/state');
    expect(state.status).toBe(200);
    expectHelloShape(state.body, 'raft', 3);
    expect(Object.keys(state.body).sort()).toEqual(Object.keys(hello.data).sort());
  });

  it('sends about four state frames a second', async () => {
    const from = sse.mark;
    await sleep(2_000);
    const n = sse.states(from).length;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(11);
  });

  it('a killed leader: admin, killed, and another elected within 3 s; revived after revive', async () => {
    const leader = await c.waitForLeader();
    const from = sse.mark;
    const t0 = Date.now();
    expect((await c.admin(leader, 'kill')).status).toBe(200);
    const admin = await sse.event((e) => e.kind === 'admin' && e.data?.action === 'kill', 3_000, 'the admin event', from);
    expect(admin).toMatchObject({ source: 'admin', node: leader, data: { action: 'kill', target: leader, status: 200 } });
    await sse.event((e) => e.kind === 'killed' && e.node === leader, 3_000 - (Date.now() - t0), 'the killed event', from);
    const elected = await sse.event((e) => e.kind === 'elected' && e.node !== leader, 3_000 - (Date.now() - t0), 'another elected', from);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(elected.term).toBeGreaterThan(0);

    const again = sse.mark;
    expect((await c.admin(leader, 'revive')).status).toBe(200);
    await sse.event((e) => e.kind === 'revived' && e.node === leader, 5_000, 'the revived event', again);
    await sse.event((e) => e.kind === 'admin' && e.data?.action === 'revive' && e.data?.status === 200, 1_000, 'the admin revive event', again);
    await c.waitForConvergence(15_000, [leader]);
  }, 30_000);

  it('cuts one link: link-cut once, only that link cut, nothing flows on it but drops, writes still commit; heal: link-healed, messages flow again', async () => {
    const leader = await c.waitForLeader();
    const follower = (await c.clusterState()).nodes.find((n: any) => n.id !== leader && n.alive).id as string;
    const key = [leader, follower].sort().join('|');
    const from = sse.mark;
    const cut = await c.http('POST', `/v1/admin/links/${leader}/${follower}/cut`);
    const cutAt = Date.now();
    expect(cut.status).toBe(200);
    expect(cut.body).toMatchObject({ link: [leader, follower], cut: true, nodes: [{ id: leader }, { id: follower }] });
    await sse.event((e) => e.kind === 'admin' && e.data?.action === 'cut link', 2_000, 'the admin cut event', from);
    const cutEvent = await sse.event((e) => e.kind === 'link-cut', 3_000, 'link-cut', from);
    expect(cutEvent.data).toEqual({ link: key });

    // Nothing flows on the link any more, only drops (once two beacons after the cut were compared).
    const quiet = await sse.state((s) => Object.keys(linkOf(s, leader, follower).rate).length === 0, 5_000, 'an empty rate on the cut link', from);
    expect(quiet.links.filter((l: any) => l.cut).map((l: any) => `${l.a}|${l.b}`)).toEqual([key]);
    await sse.state((s) => linkOf(s, leader, follower).dropRate > 0, 5_000, 'drops on the cut link', from);
    for (let i = 0; i < 3; i++) await c.putUntilOk(`lab-cut-${i}`, `${i}`, 15_000);
    // Rates are measured over windows of a second or more per replica: the window that straddles
    // the cut still shows what went before it. Two windows later, every state must show none.
    await sleep(Math.max(0, cutAt + SETTLE_MS - Date.now()));
    const settled = sse.mark;
    await sleep(1_000);
    for (const s of sse.states(settled)) {
      expect({ rate: linkOf(s, leader, follower).rate, cut: linkOf(s, leader, follower).cut }).toEqual({ rate: {}, cut: true });
      expect(s.links.filter((l: any) => l.cut).length).toBe(1);
    }
    // Both ends report the cut: still one event.
    expect(sse.events(from).filter((e) => e.kind === 'link-cut')).toHaveLength(1);

    const healFrom = sse.mark;
    expect((await c.http('POST', `/v1/admin/links/${follower}/${leader}/heal`)).status).toBe(200);
    expect((await sse.event((e) => e.kind === 'link-healed', 3_000, 'link-healed', healFrom)).data).toEqual({ link: key });
    await sse.state((s) => s.links.every((l: any) => !l.cut), 3_000, 'no link cut', healFrom);
    // The canary for the cut assertion: healed, the link carries messages again (whoever leads).
    await sse.state((s) => Object.keys(linkOf(s, leader, follower).rate).length > 0, 5_000, 'messages on the healed link', healFrom);
    await sleep(500);
    expect(sse.events(healFrom).filter((e) => e.kind === 'link-healed')).toHaveLength(1);
  }, 40_000);

  it('refuses a link from a node to itself (400) and one to an unknown node (404), and says so on the timeline', async () => {
    const from = sse.mark;
    const self = await c.http('POST', '/v1/admin/links/n1/n1/cut');
    expect(self.status).toBe(400);
    expect((await c.http('POST', '/v1/admin/links/n1/n9/cut')).status).toBe(404);
    expect((await c.http('POST', '/v1/admin/links/n9/n1/heal')).status).toBe(404);
    // The answers can come before the stream's frames: wait for the three admin events.
    const refused = await waitFor(
      async () => {
        const admin = sse.events(from).filter((e) => e.kind === 'admin');
        return admin.length >= 3 ? admin : null;
      },
      2_000,
      'three admin events',
    );
    expect(refused.map((e) => e.data.status).sort()).toEqual([400, 404, 404]);
    await sleep(300);
    expect(sse.events(from).filter((e) => e.kind === 'link-cut')).toHaveLength(0);
  });

  it('an isolated follower: every link touching it cut; healed: none', async () => {
    const leader = await c.waitForLeader();
    const follower = (await c.clusterState()).nodes.find((n: any) => n.id !== leader && n.alive).id as string;
    const from = sse.mark;
    expect((await c.admin(follower, 'isolate')).status).toBe(200);
    await sse.event((e) => e.kind === 'isolated' && e.node === follower, 3_000, 'isolated', from);
    const s = await sse.state((x) => x.nodes.find((n: any) => n.id === follower).isolated, 3_000, 'the follower isolated', from);
    for (const l of s.links) expect({ link: `${l.a}|${l.b}`, cut: l.cut }).toEqual({ link: `${l.a}|${l.b}`, cut: l.a === follower || l.b === follower });
    const healFrom = sse.mark;
    expect((await c.admin(follower, 'heal')).status).toBe(200);
    await sse.event((e) => e.kind === 'healed' && e.node === follower, 3_000, 'healed', healFrom);
    await sse.state((x) => x.links.every((l: any) => !l.cut), 3_000, 'no link cut', healFrom);
  });
});

describe('fault lab on PBFT (4 replicas)', () => {
  const cluster = clusterForSuite(['--protocol', 'pbft', '--node-env', 'TICK_MS=20']);
  let c: TestCluster;
  let sse: Sse;

  beforeAll(async () => {
    c = cluster();
    sse = await openLab(c);
  });
  afterAll(() => sse?.close());

  it('hello and /v1/lab/state: the PBFT picture, the behaviours offered', async () => {
    await waitFor(async () => sse.frames.length > 0, 5_000, 'the first frame');
    expect(sse.frames[0].event).toBe('hello');
    expectHelloShape(sse.frames[0].data, 'pbft', 4);
    expect(sse.frames[0].data.behaviors[0]).toBe('none');
    expect(sse.frames[0].data.behaviors).toContain('forge');
    const state = (await c.http('GET', '/v1/lab/state')).body;
    expectHelloShape(state, 'pbft', 4);
    expect(state.state.nodes.every((n: any) => n.pbft && typeof n.pbft.viewChanging === 'boolean')).toBe(true);
  });

  it('a Byzantine backup (forge): writes succeed, honest replicas drop its messages (drops events with reasons), byzantine events both ways', async () => {
    const primary = await c.waitForLeader();
    const backup = (await c.clusterState()).nodes.find((n: any) => n.id !== primary && n.alive).id as string;
    const honest = (s: any) => s.nodes.filter((n: any) => n.id !== backup);
    const before = (await c.http('GET', '/v1/lab/state')).body.state;
    const droppedBefore = new Map<string, number>(honest(before).map((n: any) => [n.id, n.droppedTotal]));
    const from = sse.mark;
    const r = await c.http('POST', `/v1/admin/nodes/${backup}/byzantine`, { behavior: 'forge' });
    expect(r.status).toBe(200);
    try {
      for (let i = 0; i < 6; i++) expect((await c.putUntilOk(`lab-byz-${i % 2}`, `v${i}`, 15_000)).status).toBe(200);
      const turned = await sse.event((e) => e.kind === 'byzantine' && e.node === backup, 3_000, 'the byzantine event', from);
      expect(turned.data).toEqual({ behavior: 'forge' });
      await sse.event((e) => e.kind === 'admin' && e.data?.action === 'byzantine forge' && e.node === backup, 1_000, 'the admin event', from);
      const drops = await sse.event((e) => e.kind === 'drops' && e.node !== backup, 5_000, 'drops at an honest replica', from);
      expect(Object.keys(drops.data.dropped).length).toBeGreaterThan(0);
      for (const n of Object.values(drops.data.dropped)) expect(n).toBeGreaterThan(0);
      expect(drops.text).toMatch(/dropped \d+ \S+/);
      await sse.state(
        (s) => honest(s).some((n: any) => n.droppedTotal > (droppedBefore.get(n.id) ?? 0) && Object.values(n.dropped).some((x: any) => x > 0)),
        5_000,
        "an honest replica's droppedTotal rising",
        from,
      );
    } finally {
      expect((await c.http('POST', `/v1/admin/nodes/${backup}/byzantine`, { behavior: 'none' })).status).toBe(200);
    }
    const healed = await sse.event((e) => e.kind === 'byzantine' && e.node === backup && e.data?.behavior === 'none', 3_000, 'honest again', from);
    expect(healed.text).toContain('honest');
    await c.putUntilOk('lab-byz-after', 'ok', 15_000);
  }, 40_000);

  it('a cut link between two backups carries no consensus messages (broadcasts included), only drops', async () => {
    const primary = await c.waitForLeader();
    const [x, y] = (await c.clusterState()).nodes.filter((n: any) => n.id !== primary && n.alive).map((n: any) => n.id as string);
    const from = sse.mark;
    expect((await c.http('POST', `/v1/admin/links/${x}/${y}/cut`)).status).toBe(200);
    const cutAt = Date.now();
    try {
      await sse.event((e) => e.kind === 'link-cut', 3_000, 'link-cut', from);
      const writes = (async () => {
        for (let i = 0; i < 20; i++) await c.putUntilOk(`lab-pbft-cut-${i % 4}`, `${i}`, 15_000);
      })();
      await sse.state((s) => linkOf(s, x, y).dropRate > 0, 5_000, 'drops on the cut link', from);
      await writes;
      // Two rate windows after the cut, nothing that was dropped may show as flowing; PBFT's periodic
      // STATUS broadcasts keep trying the link meanwhile.
      await sleep(Math.max(0, cutAt + SETTLE_MS - Date.now()));
      const settled = sse.mark;
      await sleep(1_000);
      const late = sse.states(settled);
      expect(late.length).toBeGreaterThan(2);
      for (const s of late) expect(linkOf(s, x, y).rate).toEqual({});
    } finally {
      expect((await c.http('POST', `/v1/admin/links/${x}/${y}/heal`)).status).toBe(200);
    }
  }, 30_000);
});
