import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Beacon, BeaconLab } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { ClusterView } from '../cluster/cluster-view';
import { HttpMetrics } from '../metrics/http-metrics';
import { SERIES_SECONDS, STATE_EVERY_MS, type LabLink, type LabNode, type LabSample, type LabState as LabStateFrame } from './lab-contract';
import { LabEvents } from './lab-events';
import { RecentRequests } from './recent-requests';
import { beaconEvents, linkKey, type LabEventDraft } from './beacon-events';

/** Client requests the latency chart counts: the KV, transaction and command routes (not streams, which last as long as their client). */
const CHARTED_ROUTE = /^\/v1\/(kv|txn|commands)/;
/**
 * Events of a kind per replica (or link) at most this often: snapshots, checkpoints and drops come
 * by the thousand at thousands of writes/s; the others are claims a Byzantine replica could flip
 * on every beacon to push everything else off the timeline.
 */
const QUIET_MS: Partial<Record<LabEventDraft['kind'], number>> = {
  snapshot: 5000,
  checkpoint: 5000,
  drops: 2000,
  isolated: 500,
  healed: 500,
  byzantine: 500,
  'link-cut': 500,
  'link-healed': 500,
};
/** Rates are differences over at least this long: a beacon sent on a change comes milliseconds after the last one. */
const RATE_WINDOW_MS = 1000;

interface Tracked {
  beacon: Beacon;
  at: number;
  /** The last lab figures. */
  lab: BeaconLab | null;
  /** The figures rates are measured from, and when they came. */
  rateBase: { lab: BeaconLab; at: number } | null;
  /** Per peer: messages per second by type this replica sent, and frames per second dropped on the link at its end. */
  sentRate: Map<string, Record<string, number>>;
  dropRateByPeer: Map<string, number>;
  dropRate: number;
  /** What it last reported while alive: a dead replica keeps its term and log bar on the page. */
  lastAlive: { term: number; log: BeaconLab['log'] } | null;
  alive: boolean;
  /** Whether it was ever alive since this gateway heard of it: only then is coming alive a revival. */
  wasAlive: boolean;
  pid: number;
}

const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * The fault lab's picture of the cluster in this gateway process, from beacons only: each
 * replica's latest figures with rates, the links between them, a sample per second for the
 * charts, and the timeline events derived from what changed (beacon-events.ts). A tick every
 * STATE_EVERY_MS notices what no beacon says (a replica SIGKILLed falls silent) and feeds the
 * open event streams.
 */
@Injectable()
export class LabState implements OnModuleDestroy {
  private readonly tracked = new Map<string, Tracked>();
  private readonly series: LabSample[] = [];
  private readonly recent = new RecentRequests();
  private readonly stateListeners = new Set<(s: LabStateFrame) => void>();
  private readonly lastEventAt = new Map<string, number>();
  private leader: string | null = null;
  private cutLinks = new Set<string>();
  private lastSample: { at: number; commit: number } | null = null;
  private ticks = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly view: ClusterView,
    private readonly events: LabEvents,
    metrics: HttpMetrics,
  ) {
    view.onBeacon((b, before) => this.observe(b, before));
    metrics.watch((route, _status, seconds) => {
      if (CHARTED_ROUTE.test(route)) this.recent.add(seconds * 1000);
    });
    this.timer = setInterval(() => this.tick(), STATE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The open event streams: a state frame each tick while any listens. Returns the unsubscribe function. */
  subscribe(listener: (s: LabStateFrame) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  chartSeries(): LabSample[] {
    return [...this.series];
  }

  state(): LabStateFrame {
    const snapshot = this.view.snapshot();
    const members = this.view.members();
    // The members, and any provisioned spare that is up (joining, or just removed).
    const ids = this.config.nodes.filter((id) => members.voters.includes(id) || members.learners.includes(id) || this.view.node(id).alive);
    const nodes: LabNode[] = ids.map((id) => this.node(id, this.view.node(id), members));
    return {
      at: Date.now(),
      leader: snapshot.leader,
      term: snapshot.term,
      nodes,
      links: this.links(nodes),
      sample: this.series[this.series.length - 1] ?? { at: Date.now(), commits: 0, requests: 0, p50Ms: null, p99Ms: null },
    };
  }

  private node(id: string, v: ReturnType<ClusterView['node']>, members: ReturnType<ClusterView['members']>): LabNode {
    const t = this.tracked.get(id);
    const lab = t?.lab ?? null;
    const alive = v.alive;
    const membership = members.voters.includes(id) ? 'voter' : members.learners.includes(id) ? 'learner' : 'spare';
    const log = alive
      ? (lab?.log ?? { last: v.commitIndex, commit: v.commitIndex, applied: v.appliedIndex, snapshot: 0 })
      : (t?.lastAlive?.log ?? { last: 0, commit: 0, applied: 0, snapshot: 0 });
    const node: LabNode = {
      id,
      role: alive ? v.role : v.lastSeenMs === null ? 'unknown' : 'dead',
      membership,
      alive,
      isolated: v.isolated,
      byzantine: v.byzantine,
      term: alive ? v.term : (t?.lastAlive?.term ?? v.term),
      lastSeenMs: v.lastSeenMs,
      log,
      dropped: lab?.dropped ?? {},
      droppedTotal: lab ? total(lab.dropped) : 0,
      dropRate: alive ? Math.round(t?.dropRate ?? 0) : 0,
    };
    if (lab?.raft) node.raft = lab.raft;
    if (lab?.pbft) node.pbft = lab.pbft;
    return node;
  }

  /** Every pair of replicas: messages per second both ways (each sender's count), drops at either end, cut when either end says so. */
  private links(nodes: LabNode[]): LabLink[] {
    const links: LabLink[] = [];
    const ids = nodes.map((n) => n.id);
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const [a, b] = [ids[i], ids[j]].sort();
        const ta = this.tracked.get(a);
        const tb = this.tracked.get(b);
        const rate: Record<string, number> = {};
        for (const [t, peer] of [
          [ta, b],
          [tb, a],
        ] as const) {
          if (t === undefined || !this.isAlive(t)) continue;
          for (const [type, r] of Object.entries(t.sentRate.get(peer) ?? {})) rate[type] = Math.round(((rate[type] ?? 0) + r) * 10) / 10;
        }
        const dropRate = (ta && this.isAlive(ta) ? (ta.dropRateByPeer.get(b) ?? 0) : 0) + (tb && this.isAlive(tb) ? (tb.dropRateByPeer.get(a) ?? 0) : 0);
        const isolated = nodes.some((n) => (n.id === a || n.id === b) && n.isolated);
        links.push({ a, b, cut: isolated || this.cutLinks.has(linkKey(a, b)), rate, dropRate: Math.round(dropRate * 10) / 10 });
      }
    }
    return links;
  }

  private isAlive(t: Tracked): boolean {
    return t.beacon.alive && Date.now() - t.at <= this.config.beaconTimeoutMs;
  }

  private observe(beacon: Beacon, before: Beacon | null): void {
    const now = Date.now();
    let t = this.tracked.get(beacon.id);
    if (t === undefined) {
      // First heard: its state now is where its story starts (no "revived" for a replica that was always up).
      t = {
        beacon,
        at: now,
        lab: null,
        rateBase: null,
        sentRate: new Map(),
        dropRateByPeer: new Map(),
        dropRate: 0,
        lastAlive: null,
        alive: beacon.alive,
        wasAlive: beacon.alive,
        pid: beacon.pid,
      };
      this.tracked.set(beacon.id, t);
    }
    const previousLab = t.lab;
    if (beacon.lab !== undefined) {
      t.lab = beacon.lab;
      if (t.rateBase === null) t.rateBase = { lab: beacon.lab, at: now };
      else if (now - t.rateBase.at >= RATE_WINDOW_MS) {
        this.rates(t, t.rateBase.lab, beacon.lab, (now - t.rateBase.at) / 1000);
        t.rateBase = { lab: beacon.lab, at: now };
      }
    }
    t.beacon = beacon;
    t.at = now;
    if (beacon.alive) t.lastAlive = { term: beacon.term, log: beacon.lab?.log ?? t.lastAlive?.log ?? { last: 0, commit: 0, applied: 0, snapshot: 0 } };
    for (const e of beaconEvents(this.config.protocol, beacon, before, previousLab)) this.emit(e);
    this.followCuts();
  }

  private rates(t: Tracked, from: BeaconLab, to: BeaconLab, seconds: number): void {
    t.sentRate = new Map();
    t.dropRateByPeer = new Map();
    for (const [peer, c] of Object.entries(to.links)) {
      const before = from.links[peer];
      const sent: Record<string, number> = {};
      for (const [type, n] of Object.entries(c.sent)) {
        const d = n - (before?.sent[type] ?? 0);
        if (d > 0) sent[type] = d / seconds;
      }
      t.sentRate.set(peer, sent);
      const dropped = total(c.dropped) - (before ? total(before.dropped) : 0);
      if (dropped > 0) t.dropRateByPeer.set(peer, dropped / seconds);
    }
    t.dropRate = Math.max(0, total(to.dropped) - total(from.dropped)) / seconds;
  }

  /** A link is cut when either end says so: both are told, and one may be down. Events once per link, not per end. */
  private followCuts(): void {
    const now = new Set<string>();
    for (const [id, t] of this.tracked) for (const peer of t.lab?.cut ?? []) now.add(linkKey(id, peer));
    for (const k of now) if (!this.cutLinks.has(k)) this.emit({ kind: 'link-cut', text: `link ${k.replace('|', ' - ')} cut`, data: { link: k } });
    for (const k of this.cutLinks) if (!now.has(k)) this.emit({ kind: 'link-healed', text: `link ${k.replace('|', ' - ')} healed`, data: { link: k } });
    this.cutLinks = now;
  }

  private emit(e: LabEventDraft): void {
    const quiet = QUIET_MS[e.kind];
    const about = e.node ?? (e.data?.link as string | undefined);
    if (quiet !== undefined && about !== undefined) {
      // Per value too: a switch to a behaviour and back within the quiet time are two events, both shown.
      const key = `${e.kind}|${about}|${String(e.data?.behavior ?? '')}`;
      const now = Date.now();
      if (now - (this.lastEventAt.get(key) ?? 0) < quiet) return;
      this.lastEventAt.set(key, now);
    }
    this.events.record({ source: 'cluster', ...e });
  }

  /** What no beacon says: liveness by silence, the cluster's leader; each second a chart sample; the state frame for the streams. */
  private tick(): void {
    const now = Date.now();
    for (const [id, t] of this.tracked) {
      const alive = this.isAlive(t);
      if (alive !== t.alive) {
        const how = alive ? (t.pid !== t.beacon.pid ? 'revived (new process)' : 'revived') : t.beacon.alive ? 'fell silent (no beacon)' : 'killed';
        // A replica still starting when first heard (its runtime not up yet) comes alive without having died.
        if (!alive || t.wasAlive) this.emit({ kind: alive ? 'revived' : 'killed', node: id, term: t.lastAlive?.term, text: `${id} ${how}` });
        t.alive = alive;
        t.wasAlive ||= alive;
      }
      t.pid = t.beacon.pid;
    }
    const leader = this.view.leader();
    if (leader !== this.leader) {
      if (leader === null)
        this.emit({ kind: 'leader-lost', text: `no ${this.config.protocol === 'pbft' ? 'primary' : 'leader'} known`, data: { was: this.leader } });
      this.leader = leader;
    }
    if (++this.ticks % Math.round(1000 / STATE_EVERY_MS) === 0) this.sample(now);
    if (this.stateListeners.size === 0) return;
    const frame = this.state();
    for (const l of this.stateListeners) l(frame);
  }

  private sample(now: number): void {
    let commit = 0;
    for (const t of this.tracked.values()) if (this.isAlive(t)) commit = Math.max(commit, t.beacon.commitIndex);
    const { count, p50Ms, p99Ms } = this.recent.take();
    const seconds = this.lastSample === null ? 1 : Math.max(0.001, (now - this.lastSample.at) / 1000);
    const commits = this.lastSample === null ? 0 : Math.max(0, commit - this.lastSample.commit) / seconds;
    this.lastSample = { at: now, commit };
    this.series.push({ at: now, commits: Math.round(commits), requests: Math.round(count / seconds), p50Ms, p99Ms });
    if (this.series.length > SERIES_SECONDS) this.series.splice(0, this.series.length - SERIES_SECONDS);
  }
}
