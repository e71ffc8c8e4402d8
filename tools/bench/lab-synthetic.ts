import { seededRng } from '@app/consensus/util/rng';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BYZANTINE_BEHAVIORS } from '@app/wire';
import {
  SERIES_SECONDS,
  STATE_EVERY_MS,
  TIMELINE_KEEP,
  type LabEvent,
  type LabEventKind,
  type LabHello,
  type LabLink,
  type LabNode,
  type LabSample,
  type LabState,
} from '../../apps/gateway/src/lab/lab-contract';
import { SCENARIOS } from '../../apps/gateway/src/scenarios/catalogue';
import { choiceFlag, intFlag, parseFlags, usageExitCode } from '../cli';

/**
 * A stand-in gateway for the fault lab's frame benchmark (tools/bench/lab-frames.ts --synthetic):
 * the real page files, and a synthetic `/v1/lab/events` stream that follows lab-contract.ts — the
 * stream a 7-replica cluster taking 5k writes/s would send — so that the page's cost at that load
 * can be measured on a machine too small to run such a cluster. Nothing here is a cluster: log
 * indexes advance at the given write rate, link rates follow the protocol's message pattern for
 * it, a chart sample comes each second, timeline events come at the given rate, and a scripted
 * fault every few seconds (kill/revive the leader, isolate/heal, cut/heal a link, a Byzantine
 * backup) changes roles, terms and links so that the page's re-render paths run.
 *
 * Standalone (to look at the page under that stream):
 *   node dist/tools/bench/lab-synthetic.js [--port 3391] [--nodes 7] [--protocol raft|pbft] [--writes 5000] [--events 50]
 */

export interface SyntheticOptions {
  protocol: 'raft' | 'pbft';
  nodes: number;
  /** Client writes per second simulated. */
  writes: number;
  /** Timeline events per second (all kinds together, the scripted faults' included). */
  events: number;
  /** Raft: entries per AppendEntries (one log entry per write); PBFT: requests per batch (one sequence number per batch). */
  batch?: number;
  /** A scripted fault step this often (ms). */
  faultEveryMs?: number;
  /** 0: any free port. */
  port?: number;
  host?: string;
  seed?: number;
}

/** What the stand-in sent, for the report. */
export interface SyntheticCounters {
  events: number;
  stateFrames: number;
  stateBytes: number;
  statesSkipped: number;
  bytes: number;
  faults: number;
  /** The leader's/primary's commit index (Raft: entries; PBFT: sequence numbers, one per batch). */
  commit: number;
  /** Open event streams. */
  streams: number;
}

export interface SyntheticLab {
  url: string;
  port: number;
  counters(): SyntheticCounters;
  /** One line saying what the stream simulates. */
  describe(): string;
  stop(): Promise<void>;
}

// As the gateway (lab.controller.ts, lab-state.ts) and the replicas' defaults (libs/config/src/node.ts).
const SKIP_STATE_BYTES = 1 << 20;
const CUT_OFF_BYTES = 8 << 20;
const KEEPALIVE_MS = 15_000;
const QUIET_MS: Partial<Record<LabEventKind, number>> = { snapshot: 5000, checkpoint: 5000, drops: 2000 };
const SNAPSHOT_EVERY = 10_000;
const CHECKPOINT_INTERVAL = 32;
const LOG_WINDOW = 4 * CHECKPOINT_INTERVAL;
const HEARTBEATS_PER_S = 10; // TICK_MS 50 × HEARTBEAT_TICKS 2
const BEACON_MS = 200;
const ELECTION_MS = 600;
const EVENT_TICK_MS = 20;

const PAGE_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'lab.js': 'text/javascript; charset=utf-8',
  'lab.css': 'text/css; charset=utf-8',
};

/** The page's files: next to the compiled gateway (dist/apps/...: this file compiled is dist/tools/bench/), else the sources. */
export function pageDir(): string {
  const candidates = [join(__dirname, '../../apps/gateway/src/lab/page'), join(process.cwd(), 'apps/gateway/src/lab/page')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (found === undefined) throw new Error(`the fault lab's page is not at ${candidates.join(' or ')} (npm run build copies it to dist)`);
  return found;
}

interface Replica {
  id: string;
  alive: boolean;
  isolated: boolean;
  byzantine: string;
  /** Raft: candidate while isolated; PBFT: view-changing. */
  term: number;
  diedAt: number | null;
  last: number;
  commit: number;
  applied: number;
  snapshot: number;
  stateTransfers: number;
  votedFor: string | null;
  votes: string[];
  dropped: Record<string, number>;
  dropRate: number;
  /** Dropped counts as of the last 'drops' event about it. */
  droppedReported: Record<string, number>;
}

const linkKey = (x: string, y: string): string => (x < y ? `${x}|${y}` : `${y}|${x}`);
const sumOf = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

export async function startSyntheticLab(o: SyntheticOptions): Promise<SyntheticLab> {
  const pbft = o.protocol === 'pbft';
  const n = o.nodes;
  const batch = Math.max(1, o.batch ?? 16);
  const faultEveryMs = o.faultEveryMs ?? 2500;
  // Seeded: the same options give the same stream.
  const rnd = seededRng(o.seed ?? 15).next;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const f = Math.floor((n - 1) / 3);
  const quorum = pbft ? 2 * f + 1 : Math.floor(n / 2) + 1;
  /** Log entries (Raft) or sequence numbers (PBFT) per second at the write rate. */
  const entriesPerS = pbft ? o.writes / batch : o.writes;
  /** AppendEntries per follower per second (Raft): one per `batch` entries, heartbeats besides. */
  const appendsPerS = o.writes / batch + HEARTBEATS_PER_S;
  const dir = pageDir();
  const files = new Map(Object.keys(PAGE_FILES).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));

  const t0 = Date.now();
  const start = pbft ? 40_000 : 1_200_000;
  const replicas = new Map<string, Replica>(
    ids.map((id) => [
      id,
      {
        id,
        alive: true,
        isolated: false,
        byzantine: 'none',
        term: 3,
        diedAt: null,
        last: start,
        commit: start,
        applied: start,
        snapshot: pbft ? start - (start % CHECKPOINT_INTERVAL) : start - (start % SNAPSHOT_EVERY),
        stateTransfers: 0,
        votedFor: ids[0],
        votes: [],
        dropped: {},
        dropRate: 0,
        droppedReported: {},
      },
    ]),
  );
  let term = 3;
  let leader: string | null = ids[0];
  replicas.get(ids[0])!.votes = ids.slice(0, quorum);
  const cuts = new Set<string>();
  let leaderLog = start;

  // ---- timeline
  const kept: LabEvent[] = [];
  const streams = new Set<ServerResponse>();
  const counters: SyntheticCounters = { events: 0, stateFrames: 0, stateBytes: 0, statesSkipped: 0, bytes: 0, faults: 0, commit: start, streams: 0 };
  let seq = 0;
  let emitted = 0;
  const lastEventAt = new Map<string, number>();
  const send = (res: ServerResponse, event: string, data: unknown): number => {
    if (res.writableLength > CUT_OFF_BYTES) {
      res.destroy();
      return 0;
    }
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    res.write(text);
    counters.bytes += text.length;
    return text.length;
  };
  const record = (e: Omit<LabEvent, 'seq' | 'at'>, at = Date.now(), live = true): LabEvent | null => {
    const quiet = QUIET_MS[e.kind];
    if (live && quiet !== undefined && e.node !== undefined) {
      const key = `${e.kind}|${e.node}`;
      if (at - (lastEventAt.get(key) ?? 0) < quiet) return null;
      lastEventAt.set(key, at);
    }
    const event: LabEvent = { seq: ++seq, at, ...e };
    kept.push(event);
    if (kept.length > TIMELINE_KEEP + 200) kept.splice(0, kept.length - TIMELINE_KEEP);
    if (live) {
      emitted++;
      for (const res of streams) {
        send(res, 'event', event);
        counters.events++;
      }
    }
    return event;
  };
  const cluster = (e: Omit<LabEvent, 'seq' | 'at' | 'source'>, at?: number, live?: boolean) => record({ source: 'cluster', ...e }, at, live);
  const admin = (action: string, target: string) =>
    record({
      kind: 'admin',
      source: 'admin',
      node: target.includes('|') ? undefined : target,
      text: `admin: ${action} ${target.replace('|', ' - ')}`,
      data: { action, target, status: 200 },
    });

  const up = (r: Replica) => r.alive && !r.isolated;
  const connected = (a: string, b: string) => up(replicas.get(a)!) && up(replicas.get(b)!) && !cuts.has(linkKey(a, b));
  const roleOf = (r: Replica): string => {
    if (!r.alive) return 'dead';
    if (pbft) return r.id === leader ? 'primary' : leader === null || r.isolated ? 'view-changing' : 'backup';
    if (r.id === leader) return 'leader';
    return r.isolated || (leader === null && r.votedFor === r.id) ? 'candidate' : 'follower';
  };

  /** Filler for the timeline: the kinds a busy, faulty cluster reports, with their data as the gateway shapes it. */
  const filler = (at: number, live: boolean): void => {
    const r = replicas.get(pick(ids))!;
    const node = r.id;
    const other = pick(ids.filter((x) => x !== node));
    const x = rnd();
    if (x < 0.35) {
      const reason = pick(pbft ? ['bad-signature', 'digest-mismatch', 'out-of-window', 'stale-request'] : ['term-beyond-ceiling', 'misaddressed', 'link-cut']);
      const count = 1 + Math.floor(rnd() * 40);
      cluster({ kind: 'drops', node, text: `${node} dropped ${count} ${reason}`, data: { dropped: { [reason]: count } } }, at, live);
    } else if (x < 0.5) {
      const idx = r.snapshot;
      if (pbft) cluster({ kind: 'checkpoint', node, term, text: `${node}: checkpoint ${idx} stable`, data: { seq: idx } }, at, live);
      else cluster({ kind: 'snapshot', node, term, text: `${node} compacted its log at ${idx}`, data: { index: idx } }, at, live);
    } else if (x < 0.6) {
      if (pbft)
        cluster(
          {
            kind: 'view-change',
            node,
            term: term + 1,
            text: `${node} starts a view change to view ${term + 1} (VIEW-CHANGE from ${other})`,
            data: { to: term + 1, from: [other] },
          },
          at,
          live,
        );
      else cluster({ kind: 'vote', node, term, text: `${node} votes for ${other} in term ${term}`, data: { for: other } }, at, live);
    } else if (x < 0.67) {
      if (pbft) cluster({ kind: 'new-view', node, term, text: `${node} enters view ${term} (primary ${leader ?? '?'})`, data: { primary: leader } }, at, live);
      else cluster({ kind: 'election-started', node, term: term + 1, text: `${node} asks for votes in term ${term + 1}` }, at, live);
    } else if (x < 0.72) {
      cluster(
        {
          kind: 'state-transfer',
          node,
          term,
          text: `${node} took the state at ${r.snapshot} from a peer (it had applied ${r.applied - 500})`,
          data: { index: r.snapshot },
        },
        at,
        live,
      );
    } else if (x < 0.85) {
      const action = pick(['kill', 'revive', 'isolate', 'heal', 'cut', 'heal-link']);
      const target = action.endsWith('link') || action === 'cut' ? linkKey(node, other) : node;
      record(
        {
          kind: 'admin',
          source: 'admin',
          node: target.includes('|') ? undefined : target,
          text: `admin: ${action} ${target.replace('|', ' - ')}`,
          data: { action, target, status: 200 },
        },
        at,
        live,
      );
    } else if (x < 0.93) {
      const s = pick(SCENARIOS.filter((sc) => sc.protocols.includes(o.protocol)));
      record(
        {
          kind: 'scenario',
          source: 'scenario',
          text: `scenario ${s.name}: step ${1 + Math.floor(rnd() * 6)} ok`,
          data: { run: `run-${Math.floor(rnd() * 1000)}`, scenario: s.name, state: 'running' },
        },
        at,
        live,
      );
    } else if (x < 0.97) {
      cluster({ kind: 'link-cut', text: `link ${node} - ${other} cut`, data: { link: linkKey(node, other) } }, at, live);
    } else {
      cluster(
        {
          kind: 'elected',
          node,
          term,
          text: pbft ? `${node} is the primary of view ${term}` : `${node} elected leader of term ${term} (votes: ${ids.slice(0, quorum).join(', ')})`,
          data: pbft ? undefined : { votes: ids.slice(0, quorum) },
        },
        at,
        live,
      );
    }
  };

  // A gateway that has run a while: a full timeline and five minutes of chart.
  const history = Math.min(TIMELINE_KEEP, Math.max(100, o.events * 60));
  for (let i = history; i > 0; i--) filler(t0 - (i * 60_000) / history, false);
  const series: LabSample[] = [];
  const jitter = (x: number, by: number) => x * (1 - by + 2 * by * rnd());
  const latency = () => (pbft ? { p50Ms: jitter(14, 0.2), p99Ms: jitter(60, 0.3) } : { p50Ms: jitter(8, 0.2), p99Ms: jitter(35, 0.3) });
  const round1 = (x: number) => Math.round(x * 10) / 10;
  for (let i = SERIES_SECONDS; i > 0; i--) {
    const l = latency();
    series.push({
      at: t0 - i * 1000,
      commits: Math.round(jitter(entriesPerS, 0.05)),
      requests: Math.round(jitter(o.writes, 0.05)),
      p50Ms: round1(l.p50Ms),
      p99Ms: round1(l.p99Ms),
    });
  }

  // ---- elections, view changes
  const electionTimers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      electionTimers.delete(t);
      fn();
    }, ms);
    electionTimers.add(t);
  };
  const loseLeader = (why: string) => {
    if (leader === null) return;
    const was = leader;
    leader = null;
    cluster({ kind: 'leader-lost', text: `no ${pbft ? 'primary' : 'leader'} known (${why})`, data: { was } });
    if (pbft) {
      for (const r of replicas.values())
        if (up(r))
          cluster({
            kind: 'view-change',
            node: r.id,
            term: term + 1,
            text: `${r.id} starts a view change to view ${term + 1}`,
            data: { to: term + 1, from: ids.filter((x) => x !== was).slice(0, f + 1) },
          });
    } else {
      const candidate = pick(ids.filter((x) => up(replicas.get(x)!)));
      const c = replicas.get(candidate)!;
      c.votedFor = candidate;
      c.votes = [candidate];
      cluster({ kind: 'election-started', node: candidate, term: term + 1, text: `${candidate} asks for votes in term ${term + 1}` });
    }
    later(ELECTION_MS, elect);
  };
  const elect = () => {
    const reachable = ids.filter((x) => up(replicas.get(x)!));
    if (reachable.length < quorum) return later(ELECTION_MS, elect);
    if (pbft) {
      do term++;
      while (!up(replicas.get(ids[term % n])!));
      leader = ids[term % n];
      for (const id of reachable)
        cluster({ kind: 'new-view', node: id, term, text: `${id} enters view ${term} (primary ${leader})`, data: { primary: leader } });
      cluster({ kind: 'elected', node: leader, term, text: `${leader} is the primary of view ${term}` });
    } else {
      term++;
      const candidate = reachable.find((x) => replicas.get(x)!.votedFor === x) ?? reachable[0];
      const c = replicas.get(candidate)!;
      for (const id of reachable)
        if (id !== candidate) {
          replicas.get(id)!.votedFor = candidate;
          cluster({ kind: 'vote', node: id, term, text: `${id} votes for ${candidate} in term ${term}`, data: { for: candidate } });
        }
      c.votes = reachable;
      leader = candidate;
      cluster({
        kind: 'elected',
        node: candidate,
        term,
        text: `${candidate} elected leader of term ${term} (votes: ${reachable.join(', ')})`,
        data: { votes: reachable },
      });
    }
    for (const r of replicas.values()) if (up(r)) r.term = term;
  };

  // ---- the scripted faults: each step changes what the page draws (roles, terms, links, drops)
  let victim: string | null = null;
  let lonely: string | null = null;
  let liar: string | null = null;
  let cutLink: string | null = null;
  const followers = () => ids.filter((x) => x !== leader && up(replicas.get(x)!));
  const steps: Array<() => void> = [
    () => {
      if (leader === null) return;
      victim = leader;
      const r = replicas.get(victim)!;
      admin('kill', victim);
      r.alive = false;
      r.diedAt = Date.now();
      cluster({ kind: 'killed', node: victim, term: r.term, text: `${victim} killed` });
      loseLeader('killed');
    },
    () => {
      if (victim === null) return;
      const r = replicas.get(victim)!;
      admin('revive', victim);
      r.alive = true;
      r.diedAt = null;
      r.term = term;
      r.votedFor = leader;
      r.votes = [];
      cluster({ kind: 'revived', node: victim, term: r.term, text: `${victim} revived` });
      victim = null;
    },
    () => {
      const candidates = followers();
      if (candidates.length <= quorum) return;
      lonely = pick(candidates);
      const r = replicas.get(lonely)!;
      admin('isolate', lonely);
      r.isolated = true;
      r.term = term + 1;
      if (!pbft) {
        r.votedFor = lonely;
        r.votes = [lonely];
      }
      cluster({ kind: 'isolated', node: lonely, text: `${lonely} isolated from its peers` });
    },
    () => {
      if (lonely === null) return;
      const r = replicas.get(lonely)!;
      admin('heal', lonely);
      r.isolated = false;
      r.term = term;
      r.votedFor = leader;
      r.votes = [];
      cluster({ kind: 'healed', node: lonely, text: `${lonely} back in touch with its peers` });
      lonely = null;
    },
    () => {
      const fs = followers();
      if (fs.length < 2) return;
      cutLink = linkKey(fs[0], fs[1]);
      admin('cut', cutLink);
      cuts.add(cutLink);
      cluster({ kind: 'link-cut', text: `link ${cutLink.replace('|', ' - ')} cut`, data: { link: cutLink } });
    },
    () => {
      if (cutLink === null) return;
      admin('heal', cutLink);
      cuts.delete(cutLink);
      cluster({ kind: 'link-healed', text: `link ${cutLink.replace('|', ' - ')} healed`, data: { link: cutLink } });
      cutLink = null;
    },
  ];
  if (pbft) {
    steps.push(
      () => {
        const fs = followers();
        if (fs.length === 0) return;
        liar = fs[0];
        const r = replicas.get(liar)!;
        admin('byzantine equivocate', liar);
        r.byzantine = 'equivocate';
        cluster({ kind: 'byzantine', node: liar, text: `${liar} turned Byzantine: equivocate`, data: { behavior: 'equivocate' } });
      },
      () => {
        if (liar === null) return;
        const r = replicas.get(liar)!;
        admin('byzantine none', liar);
        r.byzantine = 'none';
        cluster({ kind: 'byzantine', node: liar, text: `${liar} honest again`, data: { behavior: 'none' } });
        liar = null;
      },
    );
  }
  let step = 0;

  // ---- the log, drops, and the state frame
  let lastTick = Date.now();
  const advance = () => {
    const now = Date.now();
    const dt = (now - lastTick) / 1000;
    lastTick = now;
    const ordering = leader !== null && ids.filter((x) => up(replicas.get(x)!)).length >= quorum;
    if (ordering) leaderLog += entriesPerS * dt;
    const head = Math.floor(leaderLog);
    const lagMax = Math.max(1, Math.round(entriesPerS * 0.02));
    for (const r of replicas.values()) {
      const before = { ...r.dropped };
      if (r.alive) {
        const reaches = leader !== null && (r.id === leader || connected(r.id, leader));
        if (reaches) {
          if (head - r.applied > (pbft ? LOG_WINDOW : SNAPSHOT_EVERY)) {
            r.stateTransfers++;
            const from = r.applied;
            r.last = r.commit = r.applied = head - (head % (pbft ? CHECKPOINT_INTERVAL : SNAPSHOT_EVERY));
            r.snapshot = r.applied;
            cluster({
              kind: 'state-transfer',
              node: r.id,
              term: r.term,
              text: `${r.id} took the state at ${r.snapshot} from a peer (it had applied ${from})`,
              data: { index: r.snapshot },
            });
          }
          const lag = r.id === leader ? 0 : Math.floor(rnd() * lagMax);
          r.last = Math.max(r.last, head + (r.id === leader ? Math.round(entriesPerS * 0.01) : 0) - lag);
          r.commit = Math.max(r.commit, Math.min(r.last, head - lag));
          r.applied = Math.max(r.applied, r.commit - Math.floor(rnd() * lagMax));
          const snap = pbft ? r.applied - (r.applied % CHECKPOINT_INTERVAL) : r.applied - (r.applied % SNAPSHOT_EVERY);
          if (snap > r.snapshot) {
            r.snapshot = snap;
            if (pbft) cluster({ kind: 'checkpoint', node: r.id, term: r.term, text: `${r.id}: checkpoint ${snap} stable`, data: { seq: snap } });
            else cluster({ kind: 'snapshot', node: r.id, term: r.term, text: `${r.id} compacted its log at ${snap}`, data: { index: snap } });
          }
        }
        // Drops: an isolated replica drops what its peers still send; honest PBFT replicas drop a liar's messages.
        let rate = 0;
        const add = (reason: string, perS: number) => {
          const k = perS * dt;
          r.dropped[reason] = Math.round((r.dropped[reason] ?? 0) + k);
          rate += perS;
        };
        if (r.isolated) add('isolated', r.id === leader || pbft ? 2 * entriesPerS : appendsPerS);
        if (pbft) for (const x of replicas.values()) if (x !== r && x.byzantine !== 'none' && up(x) && up(r)) add('digest-mismatch', 2 * entriesPerS);
        r.dropRate = rate;
      } else r.dropRate = 0;
      const grew: Record<string, number> = {};
      for (const [reason, c] of Object.entries(r.dropped)) if (c > (before[reason] ?? 0)) grew[reason] = c - (r.droppedReported[reason] ?? 0);
      if (Object.keys(grew).length > 0) {
        const e = cluster({
          kind: 'drops',
          node: r.id,
          text: `${r.id} dropped ${Object.entries(grew)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}`,
          data: { dropped: grew },
        });
        if (e !== null) r.droppedReported = { ...r.dropped };
      }
    }
    counters.commit = leader !== null ? replicas.get(leader)!.commit : Math.max(...[...replicas.values()].map((r) => r.commit));
  };

  const nodeOf = (r: Replica, now: number): LabNode => {
    const node: LabNode = {
      id: r.id,
      role: roleOf(r),
      membership: 'voter',
      alive: r.alive,
      isolated: r.isolated,
      byzantine: r.byzantine,
      term: r.term,
      lastSeenMs: r.alive ? Math.floor(rnd() * BEACON_MS) : now - (r.diedAt ?? now),
      log: { last: r.last, commit: r.commit, applied: r.applied, snapshot: r.snapshot },
      dropped: { ...r.dropped },
      droppedTotal: sumOf(r.dropped),
      dropRate: Math.round(r.dropRate),
    };
    if (pbft) {
      const slots: Array<[number, number, number, number]> = [];
      for (let s = r.last - 7; s <= r.last; s++) {
        const done = s <= r.commit;
        slots.push([s, done ? n - 1 : Math.floor(rnd() * (n - 1)), done ? n : Math.floor(rnd() * quorum), done ? 1 : 0]);
      }
      node.pbft = { primary: leader, viewChanging: roleOf(r) === 'view-changing', low: r.snapshot, high: r.snapshot + LOG_WINDOW, slots };
      if (node.pbft.viewChanging)
        node.pbft.viewChange = { to: r.isolated ? r.term : term + 1, from: r.isolated ? [r.id] : ids.filter((x) => up(replicas.get(x)!)).slice(0, f + 1) };
    } else {
      const progress: Record<string, { match: number; next: number; state: string }> = {};
      if (r.id === leader)
        for (const x of replicas.values())
          if (x !== r) {
            const ok = connected(r.id, x.id);
            progress[x.id] = { match: x.last, next: x.last + 1, state: ok ? 'replicate' : 'probe' };
          }
      node.raft = { votedFor: r.votedFor, votes: r.id === leader || roleOf(r) === 'candidate' ? r.votes : [], progress };
    }
    return node;
  };

  const linksOf = (): LabLink[] => {
    const links: LabLink[] = [];
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const [a, b] = [ids[i], ids[j]].sort();
        const ra = replicas.get(a)!;
        const rb = replicas.get(b)!;
        const cut = ra.isolated || rb.isolated || cuts.has(linkKey(a, b));
        const rate: Record<string, number> = {};
        let dropRate = 0;
        const both = ra.alive && rb.alive;
        const withLeader = leader !== null && (a === leader || b === leader);
        if (both && !cut) {
          if (pbft) {
            if (leader !== null) {
              // per sequence number: the primary's PRE-PREPARE to each backup, PREPARE from each backup to all, COMMIT from all to all
              if (withLeader) rate.PrePrepare = round1(jitter(entriesPerS, 0.05));
              rate.Prepare = round1(jitter(withLeader ? entriesPerS : 2 * entriesPerS, 0.05));
              rate.Commit = round1(jitter(2 * entriesPerS, 0.05));
              rate.Checkpoint = round1((2 * entriesPerS) / CHECKPOINT_INTERVAL);
            } else rate.ViewChange = 2;
          } else if (withLeader) {
            rate.AppendEntries = round1(jitter(appendsPerS, 0.05));
            rate.AppendEntriesResponse = round1(jitter(appendsPerS, 0.05));
          } else if (leader === null) {
            rate.RequestVote = 1.6;
            rate.RequestVoteResponse = 1.6;
          }
          if (ra.byzantine !== 'none' || rb.byzantine !== 'none') dropRate = round1(2 * entriesPerS);
        } else if (both && cut) dropRate = round1(withLeader ? (pbft ? 2 * entriesPerS : appendsPerS) : pbft ? 2 * entriesPerS : 0);
        links.push({ a, b, cut, rate, dropRate });
      }
    return links;
  };

  const stateNow = (): LabState => {
    const now = Date.now();
    return {
      at: now,
      leader,
      term,
      nodes: ids.map((id) => nodeOf(replicas.get(id)!, now)),
      links: linksOf(),
      sample: series[series.length - 1],
    };
  };

  let lastSample = { at: Date.now(), commit: counters.commit };
  const sample = () => {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - lastSample.at) / 1000);
    const commits = Math.max(0, counters.commit - lastSample.commit) / seconds;
    lastSample = { at: now, commit: counters.commit };
    const l = latency();
    const serving = leader !== null;
    series.push({
      at: now,
      commits: Math.round(commits),
      requests: Math.round(serving ? jitter(o.writes, 0.05) : o.writes * 0.05),
      p50Ms: serving ? round1(l.p50Ms) : null,
      p99Ms: serving ? round1(l.p99Ms) : null,
    });
    if (series.length > SERIES_SECONDS) series.splice(0, series.length - SERIES_SECONDS);
  };

  const hello = (): LabHello => ({
    protocol: o.protocol,
    cluster: `synthetic-${o.protocol}-${n}`,
    quorum,
    behaviors: pbft ? ['none', ...BYZANTINE_BEHAVIORS.filter((b) => b !== 'none')] : [],
    supervisor: true,
    adminToken: false,
    scenarios: SCENARIOS.map((s) => ({ name: s.name, title: s.title, description: s.description, protocols: [...s.protocols] })),
    state: stateNow(),
    timeline: kept.slice(-TIMELINE_KEEP),
    series: [...series],
  });

  // ---- timers
  let ticks = 0;
  const stateTimer = setInterval(() => {
    advance();
    if (++ticks % Math.round(1000 / STATE_EVERY_MS) === 0) sample();
    if (streams.size === 0) return;
    const frame = stateNow();
    for (const res of streams) {
      if (res.writableLength > SKIP_STATE_BYTES) {
        counters.statesSkipped++;
        continue;
      }
      counters.stateBytes += send(res, 'state', frame);
      counters.stateFrames++;
    }
  }, STATE_EVERY_MS);
  const eventsStart = Date.now();
  const eventTimer = setInterval(() => {
    const due = Math.floor(((Date.now() - eventsStart) / 1000) * o.events);
    while (emitted < due) filler(Date.now(), true);
  }, EVENT_TICK_MS);
  const faultTimer = setInterval(() => {
    counters.faults++;
    steps[step++ % steps.length]();
  }, faultEveryMs);
  const keepalive = setInterval(() => {
    for (const res of streams) res.write(': keepalive\n\n');
  }, KEEPALIVE_MS);

  // ---- HTTP
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const url = new URL(req.url ?? '/', 'http://synthetic');
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/' || path.startsWith('/lab/'))) {
      const name = path === '/' ? 'index.html' : path.slice('/lab/'.length);
      const text = files.get(name);
      if (text === undefined || (path !== '/' && name === 'index.html')) return json(res, 404, { status: 404, title: 'Not Found' });
      res.writeHead(200, { 'Content-Type': PAGE_FILES[name], 'Cache-Control': 'no-cache' });
      return void res.end(text);
    }
    if (req.method === 'GET' && path === '/v1/lab/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      send(res, 'hello', hello());
      streams.add(res);
      counters.streams = streams.size;
      const close = () => {
        streams.delete(res);
        counters.streams = streams.size;
      };
      // The response's close, not the request's (that one comes when its body has been read).
      res.once('close', close);
      return;
    }
    if (req.method === 'GET' && path === '/v1/lab/state') return json(res, 200, hello());
    if (req.method === 'GET' && path === '/v1/kv') return json(res, 200, { items: [], next: null, revision: counters.commit });
    if (req.method === 'GET' && path === '/v1/admin/scenarios') return json(res, 200, SCENARIOS);
    if ((req.method === 'POST' || req.method === 'DELETE') && path.startsWith('/v1/admin/')) {
      // Carried out by nobody: acknowledged, and on the timeline like the gateway's admin actions.
      const target = decodeURIComponent(path.slice('/v1/admin/'.length));
      record({
        kind: 'admin',
        source: 'admin',
        text: `admin: ${req.method} ${target} (synthetic: not carried out)`,
        data: { action: req.method, target, status: 200, body },
      });
      return json(res, 200, { ok: true, synthetic: true });
    }
    json(res, 404, { status: 404, title: 'Not Found', detail: `${req.method} ${path}: the synthetic lab answers the fault lab's routes only` });
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d.length + body.length > 65_536 ? '' : d));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    counters: () => ({ ...counters }),
    describe: () =>
      `synthetic stream: ${o.protocol}, ${n} replicas, ${o.writes} writes/s simulated (` +
      (pbft
        ? `${round1(entriesPerS)} batches/s of ${batch}; per link PrePrepare ${round1(entriesPerS)}/s with the primary, Prepare and Commit up to ${round1(2 * entriesPerS)}/s each`
        : `${o.writes} entries/s; AppendEntries + responses ${round1(appendsPerS)}/s each per follower link`) +
      `), ${o.events} timeline events/s, a scripted fault every ${faultEveryMs / 1000} s`,
    stop: async () => {
      for (const t of [stateTimer, eventTimer, faultTimer, keepalive]) clearInterval(t);
      for (const t of electionTimers) clearTimeout(t);
      for (const res of streams) res.destroy();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const USAGE = `usage: node dist/tools/bench/lab-synthetic.js [--port 3391] [--nodes 7] [--protocol raft|pbft] [--writes 5000] [--events 50] [--batch 16]

  Serves the fault lab's page with a synthetic event stream (no cluster) until interrupted.
  --port N      where (default 3391; 0: any free port)
  --nodes N     replicas (default 7)
  --protocol P  raft or pbft (default raft)
  --writes N    client writes per second simulated (default 5000)
  --events N    timeline events per second (default 50)
  --batch N     Raft: entries per AppendEntries; PBFT: requests per batch (default 16)
  --fault-ms N  a scripted fault step every N ms (default 2500)`;

async function main(): Promise<void> {
  let o: SyntheticOptions;
  try {
    const v = parseFlags(process.argv.slice(2), ['port', 'nodes', 'protocol', 'writes', 'events', 'batch', 'fault-ms']);
    o = {
      port: intFlag(v, 'port', 3391, 0, 65535),
      nodes: intFlag(v, 'nodes', 7, 1, 31),
      protocol: choiceFlag(v, 'protocol', ['raft', 'pbft'] as const, 'raft'),
      writes: intFlag(v, 'writes', 5000, 0),
      events: intFlag(v, 'events', 50, 0),
      batch: intFlag(v, 'batch', 16, 1),
      faultEveryMs: intFlag(v, 'fault-ms', 2500, 100),
    };
  } catch (err) {
    const code = usageExitCode(err, 'lab-synthetic', USAGE);
    if (code === null) throw err;
    process.exit(code);
  }
  const lab = await startSyntheticLab(o);
  process.stderr.write(`[lab-synthetic] ${lab.describe()}\n[lab-synthetic] ${lab.url}/\n`);
  const stop = () => void lab.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`lab-synthetic failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
