import { packr } from '@app/consensus/kv/msgpack';
import {
  ByzantineFilter,
  createByzantine,
  ed25519Crypto,
  isByzantineBehavior,
  MAX_VIEW,
  PbftCrypto,
  PbftFatal,
  PbftMessage,
  PbftReady,
  PbftReplica,
  Reply,
  signRequest,
  wellFormed,
} from '@app/consensus/pbft';
import type { DurableStore } from '@app/storage';
import { BeaconMembers, GatewayRequest, PBFT_CLIENT_ID, PbftRequestBody, pbftReplyTopic } from '@app/wire';
import type { NodeConfig } from '../config/node-config';
import type { ReplicaRuntime, RuntimeIo, RuntimeLab, RuntimeStatus } from '../replica/runtime';
import { PbftCodec } from './codec';
import { KvApp } from './kv-app';
import { LeaseClock } from '../replica/lease-clock';
import { DigestCache } from '../replica/digest-cache';
import { ReadyLoop } from '../replica/ready-loop';
import { PbftLedger } from '../ledger/pbft-ledger';
import { loadPbftSigners, pbftConfigurationOf } from './reconfiguration';

/** Sequence numbers the fault lab shows with their vote counts (the latest ones). */
const LAB_SLOTS = 12;

/**
 * Drives a PBFT replica with real time, the Redis store and the bus. Each Ready: the stable
 * checkpoint first, then hard state + entries + executed batches in one atomic write, then the
 * messages (through the Byzantine filter when the admin API turned this replica Byzantine) and
 * the signed replies.
 */
export class PbftRuntime implements ReplicaRuntime {
  private replica!: PbftReplica;
  private restoresAtStart = 0;
  private app!: KvApp;
  private crypto!: PbftCrypto;
  private readonly codec = new PbftCodec();
  private readonly loop = new ReadyLoop(
    () => this.replica.hasReady(),
    () => this.handleReady(),
    (err) => this.io.fatal(err),
  );
  private byzantine: ByzantineFilter | null = null;
  private readonly digests = new DigestCache();
  /** Lease deadlines on this replica's clock: every replica votes, f+1 votes expire a lease. */
  private readonly leaseClock: LeaseClock;
  private leaseVoteTs = Date.now() * 1000;
  private lastView = -1;
  private lastPrimary = '';
  /** The core's fatal condition, as one line for operators (status, health). */
  private fatal: string | undefined;
  /** The verifiable ledger: the core's hash chain over executed sequence numbers, as applied here. */
  readonly ledger: PbftLedger;

  readonly counters = { requests: 0, badRequests: 0, executedBatches: 0, persists: 0, persistRetries: 0, malformedPeerFrames: 0, replies: 0 };

  constructor(
    private readonly cfg: NodeConfig,
    private readonly store: DurableStore,
    private readonly io: RuntimeIo,
  ) {
    this.leaseClock = new LeaseClock(() => performance.now(), `${cfg.nodeId}/leases`, cfg.leaseTtlFactor);
    this.ledger = new PbftLedger(store, Math.max(256, 4 * cfg.pbftCheckpointInterval));
  }

  async start(): Promise<void> {
    const { keys, admin } = loadPbftSigners(this.cfg.keysDir, this.cfg.nodeId, [...this.cfg.nodes, PBFT_CLIENT_ID]);
    this.crypto = ed25519Crypto(keys.privateKeyPem, keys.publicKeys);
    if (admin === undefined) this.io.log('pbft: no admin.pub in KEYS_DIR: the replica set cannot be reconfigured');
    const persisted = this.codec.load(await this.store.load());
    if (this.loop.isStopped) return;
    this.ledger.start(persisted.stableCheckpoint);
    // f+1 lease-expiry votes of NODES's f: every configuration is a subset of NODES, so its f is no
    // larger and f+1 votes include a correct replica whichever configuration is in force.
    const f = Math.floor((this.cfg.nodes.length - 1) / 3);
    this.app = new KvApp({
      sessionWindow: this.cfg.sessionWindow,
      historyEvents: this.cfg.historyEvents,
      replicas: this.cfg.nodes,
      leaseExpireQuorum: f + 1,
      leaseClock: this.leaseClock,
    });
    this.replica = new PbftReplica(
      {
        id: this.cfg.nodeId,
        ...pbftConfigurationOf(this.cfg, admin),
        app: this.app,
        crypto: this.crypto,
        maxBatch: this.cfg.pbftMaxBatch,
        batchTicks: 0,
        maxInflightBatches: this.cfg.pbftInflightBatches,
        checkpointInterval: this.cfg.pbftCheckpointInterval,
        logWindow: 4 * this.cfg.pbftCheckpointInterval,
        requestTimeoutTicks: this.cfg.electionTicks,
        statusTicks: this.cfg.heartbeatTicks * 2,
        random: Math.random,
      },
      persisted,
    );
    // Its own stable state, restored at start, was not taken from a peer.
    this.restoresAtStart = this.app.restores;
    const st = this.replica.status();
    const conf = st.configuration;
    this.io.log(
      `pbft: started in view ${st.view}, stable checkpoint ${st.stableCheckpoint}, executed ${st.lastExecuted}, configuration ${conf.epoch} [${conf.replicas.join(',')}]${st.member ? '' : ' (not a member: catching up by state transfer)'}`,
    );
    this.loop.startTicking(this.cfg.tickMs, () => {
      this.replica.tick();
      this.voteLeaseExpiry();
    });
  }

  /**
   * This replica's votes for the leases its clock says ran out, as requests it signs itself
   * (client `<id>/leases`, relayed to the primary like any client's): f+1 votes expire a lease, so
   * at least one comes from a correct replica whose clock agrees.
   */
  private voteLeaseExpiry(): void {
    const client = this.leaseClock.client;
    for (const vote of this.leaseClock.voteRequests(this.cfg.nodeId)) {
      const request = signRequest(this.crypto, { client, id: vote.id, ts: ++this.leaseVoteTs, op: packr.pack([{ kind: 'write', request: vote }]) });
      this.replica.propose(request, true);
    }
  }

  stop(): void {
    this.loop.stop();
  }

  setByzantine(behavior: string): void {
    if (behavior === 'none') {
      this.byzantine = null;
      return;
    }
    if (!isByzantineBehavior(behavior)) throw new Error(`unknown byzantine behavior ${JSON.stringify(behavior)}`);
    this.byzantine = createByzantine(behavior, {
      id: this.cfg.nodeId,
      replicas: this.cfg.nodes,
      sign: (p) => this.crypto.sign(p),
      random: Math.random,
      withheld: () => true, // a withholding primary starves the (single) gateway client
    });
  }

  onPeerFrame(_from: string, body: unknown): number {
    if (this.loop.isStopped || !this.replica) return 0;
    const ms = (body as { ms?: unknown }).ms;
    if (!Array.isArray(ms)) {
      this.counters.malformedPeerFrames++;
      return 1;
    }
    let dropped = 0;
    const coreDroppedBefore = this.replica.droppedTotal;
    for (const m of ms) {
      if (!wellFormed(m)) {
        this.counters.malformedPeerFrames++;
        dropped++;
        continue;
      }
      this.byzantine?.observe?.(m as PbftMessage);
      this.replica.step(m as PbftMessage); // signatures are checked (and bad ones counted) by the core
    }
    this.loop.kick();
    return dropped + this.replica.droppedTotal - coreDroppedBefore;
  }

  lab(): RuntimeLab {
    if (!this.replica)
      return { log: { last: 0, commit: 0, applied: 0, snapshot: 0 }, stateTransfers: 0, dropped: { malformed: this.counters.malformedPeerFrames } };
    const s = this.replica.status();
    const { slots, viewChange } = this.replica.inspect(LAB_SLOTS);
    return {
      log: {
        last: slots.length > 0 ? slots[slots.length - 1][0] : s.lastExecuted,
        commit: s.lastExecuted,
        applied: s.lastExecuted,
        snapshot: s.stableCheckpoint,
      },
      stateTransfers: this.app.restores - this.restoresAtStart,
      pbft: {
        primary: s.viewChanging ? null : s.primary,
        viewChanging: s.viewChanging,
        low: s.lowWaterMark,
        high: s.highWaterMark,
        slots,
        ...(viewChange !== undefined ? { viewChange } : {}),
      },
      dropped: { ...s.dropped, malformed: (s.dropped.malformed ?? 0) + this.counters.malformedPeerFrames },
    };
  }

  onClientRequest(_from: string, body: GatewayRequest | PbftRequestBody): void {
    if (this.loop.isStopped || !this.replica) return;
    if (body.t !== 'pbft-request') return; // Raft-style frames mean nothing here
    this.counters.requests++;
    const r = this.replica.propose(body.request, body.relay !== false);
    if (!r.ok && r.reason === 'bad-request') this.counters.badRequests++;
    this.loop.kick();
  }

  status(): RuntimeStatus {
    if (!this.replica) return { role: 'starting', term: 0, leader: null, commitIndex: 0, appliedIndex: 0, counters: this.counters };
    const s = this.replica.status();
    // A replica outside the configuration in force (joining, or removed) neither orders nor leads.
    const role = !s.member ? 'non-member' : s.viewChanging ? 'view-changing' : s.primary === this.cfg.nodeId ? 'primary' : 'backup';
    return {
      role,
      term: s.view,
      leader: s.viewChanging || !s.member ? null : s.primary,
      commitIndex: s.lastExecuted,
      appliedIndex: s.lastExecuted,
      stableCheckpoint: s.stableCheckpoint,
      lowWaterMark: s.lowWaterMark,
      digest: this.digests.get(s.lastExecuted, this.app?.kv),
      ledger: this.ledger.head(),
      members: this.members(),
      ...(this.fatal !== undefined ? { fatal: this.fatal } : {}),
      counters: {
        ...this.counters,
        lowWaterMark: s.lowWaterMark,
        pendingRequests: s.pendingRequests,
        logSize: s.logSize,
        ...Object.fromEntries(Object.entries(s.dropped).map(([k, v]) => [`dropped_${k.replace(/-/g, '_')}`, v])),
      },
    };
  }

  /**
   * Discovery: the configuration in force here, in the Raft shape (voters = its replicas, no
   * learners, index = epoch), with what only PBFT has. Gateways take a configuration once f+1
   * replicas vouch for it (apps/gateway/src/cluster/pbft-configurations.ts).
   */
  private members(): BeaconMembers {
    const s = this.replica.status();
    const next = s.nextConfiguration;
    return {
      voters: [...s.configuration.replicas],
      learners: [],
      index: s.configuration.epoch,
      committed: next === null,
      pbft: {
        since: s.configuration.since,
        next: next === null ? null : { epoch: next.epoch, replicas: [...next.replicas], since: next.since },
        member: s.member,
      },
    };
  }

  // ---------------------------------------------------------------- the Ready loop

  private async handleReady(): Promise<void> {
    const rd = this.replica.ready();
    if (rd.fatal) this.reportFatal(rd.fatal);
    // Replies carry the results of batches 2f+1 replicas have committed, each of which made its
    // prepared certificate durable before its COMMIT went out: the order is fixed whatever happens
    // to this replica, and a restart executes the batch again to the same result. So, as a Raft
    // node applies committed entries while it writes new ones (thesis §10.2.1), they go out before
    // this Ready's write; protocol messages only after it.
    this.sendReplies(rd);
    await this.persist(rd);
    if (this.loop.isStopped) return; // killed while persisting: this Ready never happened
    this.io.sendToPeers('pbft', this.byzantine ? this.byzantine.messages(rd.messages) : rd.messages);
    this.counters.executedBatches += rd.executed.length;
    // Recorded once durable, so every block the ledger holds is in the store (its recheck reads it there).
    this.ledger.executed(rd.executed);
    if (rd.stableCheckpoint) this.ledger.stable(rd.stableCheckpoint);
    this.replica.advance(rd);
    this.noticeViewChange();
  }

  private async persist(rd: PbftReady): Promise<void> {
    const onRetry = (err: Error, attempt: number) => {
      this.counters.persistRetries++;
      if (attempt === 0) this.io.log(`pbft: persist failed, retrying: ${err.message}`);
    };
    const cp = this.codec.checkpoint(rd);
    if (cp) {
      await this.loop.untilDone(() => this.store.compact(cp), onRetry);
      this.codec.checkpointStored(cp.index);
    }
    const batch = this.codec.batch(rd);
    if (batch) {
      await this.loop.untilDone(() => this.store.persist(batch), onRetry);
      this.codec.recorded(batch);
      this.counters.persists++;
    }
  }

  private sendReplies(rd: PbftReady): void {
    const replies: Reply[] = this.byzantine ? this.byzantine.replies(rd.replies) : rd.replies;
    for (const reply of replies) {
      this.counters.replies++;
      this.io.publish(pbftReplyTopic(reply.to), { t: 'pbft-reply', reply });
    }
  }

  /**
   * The replica holds a view it cannot increment: it can never change view again, and restarting
   * would not help (the view is durable). Say so once, loudly, and let readiness report it.
   */
  private reportFatal(f: PbftFatal): void {
    this.fatal = `pbft view ${f.view} is at the ceiling (MAX_VIEW ${MAX_VIEW}): this replica can never change view again (a corrupt view reached it; it is durable, so a restart does not help: an operator must act)`;
    this.io.error(`FATAL: ${this.fatal}`);
    this.io.changed();
  }

  private noticeViewChange(): void {
    const s = this.replica.status();
    const primary = s.viewChanging ? '' : s.primary;
    if (s.view === this.lastView && primary === this.lastPrimary) return;
    this.lastView = s.view;
    this.lastPrimary = primary;
    this.io.changed();
  }
}
