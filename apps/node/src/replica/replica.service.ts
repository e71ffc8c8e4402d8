import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { redisOptions } from '@app/config';
import Redis from 'ioredis';
import { Bus, CLIENT_PRINCIPAL, Frame } from '@app/bus';
import { RedisStore } from '@app/storage';
import { isByzantineBehavior } from '@app/consensus/pbft';
import {
  Beacon,
  BeaconLab,
  BEACON_TOPIC,
  bodiesOf,
  BROADCAST_TOPIC,
  ControlRequest,
  ControlStatus,
  FrameCoalescer,
  GatewayRequest,
  loadBusKeys,
  MembershipReply,
  MembershipRequest,
  PbftRequestBody,
} from '@app/wire';
import { NODE_CONFIG } from '../config/config.module';
import type { NodeConfig } from '../config/node-config';
import { RaftRuntime } from '../raft/raft-runtime';
import type { ReplicaRuntime, RuntimeIo } from './runtime';
import { LinkStats } from './link-stats';
import { PbftRuntime } from '../pbft/pbft-runtime';

/** Peers hear this replica's incarnation about once a second (see hello()). */
const HELLO_EVERY_BEACONS = 5;

/**
 * One replica: the bus and storage connections outlive kills; the protocol runtime does not.
 * kill drops the runtime (all volatile state); revive builds a new one from storage, exactly as a
 * fresh process start does. isolate drops consensus traffic both ways but keeps gateways' access.
 */
@Injectable()
export class ReplicaService implements OnApplicationShutdown {
  private runtime: ReplicaRuntime | null = null;
  private isolated = false;
  private byzantine = 'none';
  private beaconTimer: NodeJS.Timeout | null = null;
  private beaconSoon = false;
  private shuttingDown = false;
  readonly bus: Bus;
  private readonly storageRedis: Redis;
  private readonly store: RedisStore;
  readonly counters = { peerFramesDroppedIsolated: 0, framesWhileKilled: 0, unknownFrames: 0, controlRefused: 0 };
  /** States taken from peers by the runtimes killed since the process started (the lab counts them all). */
  private pastStateTransfers = 0;
  /** What the fault lab draws of this replica's links, and the links the admin cut. */
  private readonly links: LinkStats;
  /** Answers to gateways leave once per event-loop turn, all of one gateway's in as few frames as possible. */
  private readonly replies: FrameCoalescer;

  constructor(@Inject(NODE_CONFIG) private readonly cfg: NodeConfig) {
    // Peers reach this replica through its home Redis only; it reaches each peer through the peer's.
    // Every frame is authenticated (libs/bus/src/auth.ts); no key file, no start (KeyFileError).
    this.bus = new Bus({
      homes: cfg.busRoutes,
      redisOptions: (url) => redisOptions(url).options,
      cluster: cfg.cluster,
      self: cfg.nodeId,
      topics: [BROADCAST_TOPIC],
      auth: { keys: loadBusKeys(cfg.keysDir, cfg.nodeId, [...cfg.nodes, CLIENT_PRINCIPAL]), replicas: cfg.nodes, verify: cfg.busVerify },
    });
    this.links = new LinkStats(cfg.nodes.filter((id) => id !== cfg.nodeId));
    this.replies = new FrameCoalescer(this.bus);
    this.bus.onFrame((f) => this.onFrame(f));
    // Commands fail fast while the storage Redis is away; the runtime retries them.
    // A dead socket is given up on quickly (disconnectTimeout) so a Sentinel failover is followed fast.
    this.storageRedis = new Redis({
      ...redisOptions(cfg.storageUrl).options,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (n) => Math.min(50 * n, 500),
      disconnectTimeout: 100,
    });
    this.storageRedis.on('error', () => undefined);
    this.store = new RedisStore({ redis: this.storageRedis, cluster: cfg.cluster, node: cfg.nodeId });
  }

  async boot(): Promise<void> {
    await this.bus.start();
    await this.waitForStorage();
    await this.startRuntime();
    let beacons = 0;
    this.beaconTimer = setInterval(() => {
      this.publishBeacon();
      if (++beacons % HELLO_EVERY_BEACONS === 0) this.hello();
    }, this.cfg.beaconMs);
    this.publishBeacon();
    this.hello();
  }

  /**
   * Tells the peers this process's incarnation. They bind their direct frames to the incarnation
   * they last heard (libs/bus/src/auth.ts), so a restarted replica refuses them until it speaks
   * first; a voter does by campaigning, but a learner (or a follower that hears its leader in
   * time) never would and would stay deaf. Carries nothing else.
   */
  private hello(): void {
    if (!this.isolated) this.bus.broadcast(BROADCAST_TOPIC, { t: 'hello' });
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.beaconTimer) clearInterval(this.beaconTimer);
    this.runtime?.stop();
    this.runtime = null;
    this.publishBeacon();
    await this.bus.stop();
    this.storageRedis.disconnect();
  }

  async control(req: ControlRequest): Promise<ControlStatus> {
    switch (req?.action) {
      case 'kill':
        this.retireRuntime();
        this.log('killed: volatile state dropped');
        break;
      case 'revive':
        if (!this.runtime) await this.startRuntime();
        break;
      case 'isolate':
        this.isolated = true;
        break;
      case 'heal':
        this.isolated = false;
        break;
      // One link of a partition: the gateway tells both ends, so frames are dropped both ways.
      case 'cut':
      case 'mend': {
        const peer = req.peer;
        if (typeof peer !== 'string' || peer === this.cfg.nodeId || !this.cfg.nodes.includes(peer)) {
          throw new Error(`${req.action} needs a peer among ${this.cfg.nodes.filter((id) => id !== this.cfg.nodeId).join(', ')}`);
        }
        if (req.action === 'cut') this.links.cut(peer);
        else this.links.mend(peer);
        break;
      }
      case 'byzantine': {
        if (this.cfg.protocol !== 'pbft') throw new Error('byzantine behaviours exist only in PBFT mode');
        const behavior = String(req.behavior ?? 'none');
        if (behavior !== 'none' && !isByzantineBehavior(behavior)) throw new Error(`unknown byzantine behavior ${JSON.stringify(behavior)}`);
        this.byzantine = behavior; // kept across kill and revive
        this.runtime?.setByzantine?.(behavior);
        break;
      }
      case 'status':
        break;
      default:
        throw new Error(`unknown control action ${JSON.stringify(req?.action)}`);
    }
    this.publishBeacon();
    return this.controlStatus();
  }

  controlStatus(): ControlStatus {
    const s = this.runtime?.status();
    return {
      id: this.cfg.nodeId,
      alive: this.runtime !== null,
      isolated: this.isolated,
      byzantine: this.byzantine,
      role: s?.role ?? 'dead',
      term: s?.term ?? 0,
      leader: s?.leader ?? null,
      commitIndex: s?.commitIndex ?? 0,
      appliedIndex: s?.appliedIndex ?? 0,
      cut: this.links.cutList(),
      pid: process.pid,
    };
  }

  /** Readiness: a PING to the storage Redis (rejects at once while disconnected: no offline queue). */
  pingStorage(): Promise<string> {
    return this.storageRedis.ping();
  }

  runtimeStatus() {
    return this.runtime?.status() ?? null;
  }

  /** A membership request for the live runtime (the control server's members pattern). */
  async membership(req: MembershipRequest): Promise<MembershipReply> {
    if (!this.runtime) throw new Error('this replica is killed');
    if (!this.runtime.membership) throw new Error(`membership changes are not supported by ${this.cfg.protocol} replicas yet`);
    return this.runtime.membership(req);
  }

  /** The live runtime's verifiable ledger (null while killed): the control server's ledger pattern reads it. */
  ledger() {
    return this.runtime?.ledger ?? null;
  }

  private async startRuntime(): Promise<void> {
    const io: RuntimeIo = {
      sendToPeers: (frame, messages) => this.sendToPeers(frame, messages),
      reply: (to, body) => this.replies.send(to, body),
      publish: (topic, body) => this.bus.publish(topic, body),
      changed: () => this.beaconNow(),
      log: (msg) => this.log(msg),
      error: (msg) => this.logger.error(msg),
      fatal: (err) => this.restartAfterFatal(runtime, err),
    };
    const runtime: ReplicaRuntime = this.cfg.protocol === 'raft' ? new RaftRuntime(this.cfg, this.store, io) : new PbftRuntime(this.cfg, this.store, io);
    this.runtime = runtime;
    try {
      await runtime.start();
    } catch (err) {
      // Not half alive: a replica whose state could not be loaded is down until revived again.
      runtime.stop();
      if (this.runtime === runtime) this.runtime = null;
      throw err;
    }
    if (this.byzantine !== 'none') runtime.setByzantine?.(this.byzantine);
  }

  /** The runtime broke (see ReadyLoop): throw it away and start again from storage, as a revive does. */
  private restartAfterFatal(runtime: ReplicaRuntime, err: Error): void {
    this.log(`FATAL: ${err.stack ?? err.message}; restarting from storage`);
    if (this.runtime !== runtime) return void runtime.stop();
    this.retireRuntime();
    this.publishBeacon();
    setTimeout(() => {
      if (this.runtime === null && !this.shuttingDown) this.startRuntime().catch((e: Error) => this.log(`restart failed: ${e.message}`));
    }, 1000);
  }

  /** One frame per peer (and one broadcast for `to: null`), all in one pipeline; nothing while isolated. */
  private sendToPeers(frame: 'raft' | 'pbft', messages: Array<{ to: string | null }>): void {
    if (messages.length === 0) return;
    const byPeer = new Map<string | null, Array<{ to: string | null }>>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list) list.push(m);
      else byPeer.set(m.to, [m]);
    }
    if (this.isolated) {
      this.counters.peerFramesDroppedIsolated += messages.length;
      for (const [to, ms] of byPeer) this.links.drop(to, 'isolated', ms.length);
      return;
    }
    this.bus.batch(() => {
      for (const [to, ms] of byPeer) {
        // A broadcast still reaches a cut peer's inbox: that end drops it (onFrame).
        if (to !== null && this.links.isCut(to)) {
          this.links.drop(to, 'link-cut', ms.length);
          continue;
        }
        this.links.sent(to, ms);
        if (to === null) this.bus.broadcast(BROADCAST_TOPIC, { t: frame, ms });
        else this.bus.send(to, { t: frame, ms });
      }
    });
  }

  private onFrame(f: Frame): void {
    // A gateway's requests of one turn may share a frame (ManyBody): each is taken as if alone.
    const bodies = bodiesOf(f.body);
    if (bodies === null) return void this.counters.unknownFrames++;
    for (const body of bodies) this.onBody(f.from, body);
  }

  private onBody(from: string, raw: unknown): void {
    const body = raw as { t?: unknown } | null;
    const t = typeof body === 'object' && body !== null ? body.t : undefined;
    if (t === 'pbft-request') {
      if (!this.runtime) return void this.counters.framesWhileKilled++;
      this.runtime.onClientRequest(from, body as PbftRequestBody);
      return;
    }
    if (t === 'propose' || t === 'read') {
      const req = body as GatewayRequest;
      if (typeof req.corr !== 'string') return void this.counters.unknownFrames++;
      if (!this.runtime) {
        this.counters.framesWhileKilled++;
        this.replies.send(from, { t: 'redirect', corr: req.corr, leader: null, reason: 'killed' });
        return;
      }
      this.runtime.onClientRequest(from, req);
      return;
    }
    if (t === 'hello') return; // authenticated: its sender's incarnation is learnt, nothing more to do
    if (t === 'raft' || t === 'pbft') {
      const ms = (body as { ms?: unknown }).ms;
      const messages = Array.isArray(ms) ? (ms as Array<{ type?: unknown }>) : [];
      if (!this.cfg.nodes.includes(from)) {
        this.counters.unknownFrames++;
        return this.links.drop(null, 'not-a-peer', 1);
      }
      if (this.isolated) {
        this.counters.peerFramesDroppedIsolated++;
        return this.links.drop(from, 'isolated', messages.length);
      }
      if (this.links.isCut(from)) return this.links.drop(from, 'link-cut', messages.length);
      if (!this.runtime) {
        this.counters.framesWhileKilled++;
        return this.links.drop(from, 'killed', messages.length);
      }
      this.links.received(from, messages);
      this.links.drop(from, 'rejected', this.runtime.onPeerFrame(from, body));
      return;
    }
    this.counters.unknownFrames++;
  }

  private beaconNow(): void {
    if (this.beaconSoon) return;
    this.beaconSoon = true;
    setImmediate(() => {
      this.beaconSoon = false;
      this.publishBeacon();
    });
  }

  private publishBeacon(): void {
    const s = this.runtime?.status();
    const beacon: Beacon = {
      t: 'beacon',
      id: this.cfg.nodeId,
      protocol: this.cfg.protocol,
      role: s?.role ?? 'dead',
      term: s?.term ?? 0,
      leader: s?.leader ?? null,
      commitIndex: s?.commitIndex ?? 0,
      appliedIndex: s?.appliedIndex ?? 0,
      alive: this.runtime !== null,
      isolated: this.isolated,
      byzantine: this.byzantine,
      stableCheckpoint: s?.stableCheckpoint,
      digest: s?.digest,
      ledger: s?.ledger,
      members: s?.members,
      lab: this.lab(),
      pid: process.pid,
    };
    this.bus.publish(BEACON_TOPIC, beacon);
  }

  /** Stops the runtime and drops it with all volatile state: a kill, or a restart after a fatal condition. */
  private retireRuntime(): void {
    if (this.runtime === null) return;
    this.pastStateTransfers += this.runtime.lab().stateTransfers;
    this.runtime.stop();
    this.runtime = null;
  }

  private lab(): BeaconLab {
    const runtime = this.runtime?.lab();
    const { links, dropped } = this.links.snapshot();
    // Frames the bus refused (forged, altered, replayed, stale) never reached a link: counted here by their reason.
    const bus = this.bus.counters;
    for (const [reason, n] of Object.entries(bus.rejected)) if (n > 0) dropped[`bus-${reason}`] = n;
    if (bus.malformed > 0) dropped['bus-malformed'] = bus.malformed;
    for (const [reason, n] of Object.entries(runtime?.dropped ?? {})) if (n > 0) dropped[reason] = (dropped[reason] ?? 0) + n;
    return {
      log: runtime?.log ?? { last: 0, commit: 0, applied: 0, snapshot: 0 },
      stateTransfers: this.pastStateTransfers + (runtime?.stateTransfers ?? 0),
      ...(runtime?.raft ? { raft: runtime.raft } : {}),
      ...(runtime?.pbft ? { pbft: runtime.pbft } : {}),
      links,
      dropped,
      cut: this.links.cutList(),
    };
  }

  private async waitForStorage(): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.storageRedis.ping();
        return;
      } catch (err) {
        if (i % 20 === 0) this.log(`waiting for storage Redis at ${this.cfg.storageUrl}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** A line through the app's pino logger (main.ts): JSON, with the node id, URL passwords hidden. */
  log(msg: string): void {
    this.logger.log(msg);
  }

  private readonly logger = new Logger('Replica');
}
