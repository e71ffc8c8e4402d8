import { Inject, Injectable, Logger } from '@nestjs/common';
import { ed25519Crypto, replicaSetProblem } from '@app/consensus/pbft';
import { KeyFileError, loadKeys, PBFT_ADMIN_ID } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { GatewayBus } from '../bus/gateway-bus';
import { ClusterView } from '../cluster/cluster-view';
import { faultsOf, type PbftConfigurationView } from '../cluster/pbft-configurations';
import { ApiError } from '../http/api-error';
import { SupervisorClient, SupervisorRefusedError } from '../admin/supervisor-client';
import { addressOf, Members, type Member } from './members';
import { PbftAdminClient, ReconfigurationTimeoutError } from './pbft-admin-client';

/** A PBFT member entry: the Raft entry's fields, and what the next reconfiguration does with it. */
export interface PbftMember extends Member {
  /** voter: in the configuration in force; learner: started outside it (staged), not voting. */
  role: 'voter' | 'learner';
  matchIndex: null;
  /** join: a staged voter, in the next replica set; leave: a member staged for removal. */
  next?: 'join' | 'leave';
  /** The staged plan, when the call staged a change rather than sending one. */
  pending?: PbftPlan;
  /** When the call sent a change: the configuration in force once it answered, and the replicas' decision. */
  configuration?: PbftConfigurationView;
  decided?: string;
}

/** The staged plan (see PbftMembers). */
export interface PbftPlan {
  /** Staged voters: started, catching up, in the next set. */
  join: string[];
  /** Members the next set leaves out. */
  leave: string[];
  /** Staged learners: started, catching up, not (yet) in the next set. */
  learners: string[];
  /** The next replica set the plan yields. */
  replicas: string[];
  /** Why it is not sent yet (n = 3f+1), when so. */
  rule?: string;
}

/** How long a removed replica is watched for the moment it may be stopped (see retireWhenSafe). */
const RETIRE_WATCH_MS = 120_000;
const POLL_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * PBFT membership at runtime (issue 13): the replica set changes by a reconfiguration request the
 * admin principal signs (libs/consensus/src/pbft/reconfiguration.ts), in force from the next
 * checkpoint boundary.
 *
 * Why changes are staged. Every configuration has n = 3f+1 replicas (4, 7, 10, ...), while the admin
 * API adds or removes one id per call. So a call moves one id into a staged plan, and the gateway
 * sends the reconfiguration as soon as the plan yields a valid set: growing 4 -> 7 is three adds (the
 * third one sends it), shrinking 7 -> 4 three removes, replacing a replica one add and one remove in
 * either order (n unchanged: one request swaps them). A staged add starts the replica at once (the
 * launcher's `join`), trusting the configuration in force; it is sent for once it is up, and it
 * fetches the state by certified state transfer as soon as the change is decided (the replicas
 * serve state transfer to the replicas of the configurations they know, the decided next one
 * included), before the new set takes over at the boundary. `role: "learner"` stages it without
 * counting it in the next set (promote counts it): a started replica that votes on nothing, as near
 * to a Raft learner as PBFT gets. `role: "voter"` counts it. The plan lives in this gateway only
 * (the configuration itself is replicated; a plan is a draft until it is sent), and is listed by
 * GET /v1/members.
 *
 * One change at a time, as the core allows: operations are serialised here, and the core's refusal
 * of a second pending change is a 409.
 */
@Injectable()
export class PbftMembers extends Members {
  private readonly logger = new Logger('PbftMembers');
  /** Replicas started outside the configuration in force, and whether the next set counts them. */
  private readonly staged = new Map<string, 'learner' | 'voter'>();
  /** Members the next set leaves out. */
  private readonly leaving = new Set<string>();
  private admin: PbftAdminClient | null = null;
  /** Admin operations run one after another (a change and its plan must not interleave). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly view: ClusterView,
    private readonly bus: GatewayBus,
    private readonly processes: SupervisorClient,
  ) {
    super();
    if (config.protocol === 'pbft') bus.onReply((_from, body) => this.admin?.onReply(body));
  }

  list(): {
    members: PbftMember[];
    leader: string | null;
    configIndex: number;
    committed: boolean;
    configuration: PbftConfigurationView;
    nextConfiguration: PbftConfigurationView | null;
    pending: PbftPlan;
  } {
    this.prune();
    const c = this.view.pbftConfigurations();
    const outside = [...this.staged.keys()].filter((id) => !c.current.replicas.includes(id));
    return {
      members: [...c.current.replicas, ...outside].map((id) => this.member(id)),
      leader: this.view.leader(),
      configIndex: c.current.epoch,
      committed: c.next === null,
      configuration: c.current,
      nextConfiguration: c.next,
      pending: this.plan(),
    };
  }

  member(id: string): PbftMember {
    const n = this.view.node(id);
    const inForce = this.view.pbftConfigurations().current.replicas.includes(id);
    const next = inForce ? (this.leaving.has(id) ? 'leave' : undefined) : this.staged.get(id) === 'voter' ? 'join' : undefined;
    return {
      id,
      role: inForce ? 'voter' : 'learner',
      alive: n.alive,
      leader: this.view.leader() === id,
      appliedIndex: n.appliedIndex,
      matchIndex: null,
      address: addressOf(this.config.cluster, this.config.busRoutes, id),
      ...(next !== undefined ? { next } : {}),
    };
  }

  add(id: string, role: 'learner' | 'voter'): Promise<PbftMember> {
    return this.serially(async () => {
      if (!this.config.nodes.includes(id)) {
        throw ApiError.notFound(`unknown node ${JSON.stringify(id)}: not a provisioned replica identity (NODES; the launcher's --spares)`, {
          node: id,
          nodes: this.config.nodes,
        });
      }
      if (this.current().replicas.includes(id)) {
        throw new ApiError(409, { error: `${id} is already a replica of the configuration in force (epoch ${this.current().epoch})`, node: id });
      }
      if (!this.staged.has(id)) await this.start(id);
      this.staged.set(id, role);
      return this.settle(id);
    });
  }

  promote(id: string): Promise<PbftMember> {
    return this.serially(async () => {
      if (this.current().replicas.includes(id))
        throw new ApiError(409, { error: `${id} is a replica of the configuration in force: it votes already`, node: id });
      if (!this.staged.has(id)) throw this.unknown(id);
      this.staged.set(id, 'voter');
      return this.settle(id);
    });
  }

  demote(id: string): Promise<PbftMember> {
    return this.serially(() => {
      if (this.current().replicas.includes(id)) {
        throw new ApiError(409, {
          error: `PBFT has no non-voting members: every replica of a configuration votes (n = 3f+1). Remove ${id} instead (DELETE /v1/admin/members/${id})`,
          node: id,
          reason: 'pbft-no-learners',
        });
      }
      if (!this.staged.has(id)) throw this.unknown(id);
      this.staged.set(id, 'learner');
      return Promise.resolve({ ...this.member(id), pending: this.plan() });
    });
  }

  remove(id: string): Promise<PbftMember> {
    return this.serially(async () => {
      if (this.staged.has(id) && !this.current().replicas.includes(id)) {
        // Never in the configuration: unstage it and stop its process.
        this.staged.delete(id);
        await this.retire(id);
        return { ...this.member(id), alive: false, pending: this.plan() };
      }
      if (!this.current().replicas.includes(id)) throw this.unknown(id);
      this.leaving.add(id);
      return this.settle(id);
    });
  }

  transfer(): Promise<never> {
    return Promise.reject(
      new ApiError(501, {
        error: 'PBFT has no leadership transfer: the primary of view v is replicas[v mod n] of the configuration in force, and changes by view change only',
        reason: 'pbft-no-transfer',
      }),
    );
  }

  // ---------------------------------------------------------------- the plan

  private current(): PbftConfigurationView {
    return this.view.pbftConfigurations().current;
  }

  /**
   * Forgets what a configuration that came into force made moot (a change this gateway gave up on
   * after a timeout, which took effect after all, or one another gateway sent).
   */
  private prune(): void {
    const current = this.current().replicas;
    for (const id of this.staged.keys()) if (current.includes(id)) this.staged.delete(id);
    for (const id of this.leaving) if (!current.includes(id)) this.leaving.delete(id);
  }

  /** The next replica set the plan yields, in NODES order (the order decides which replica is primary of which view). */
  private target(): string[] {
    this.prune();
    const current = this.current().replicas;
    return this.config.nodes.filter((id) => (current.includes(id) && !this.leaving.has(id)) || (!current.includes(id) && this.staged.get(id) === 'voter'));
  }

  private plan(): PbftPlan {
    this.prune();
    const target = this.target();
    const changed = !sameSet(target, this.current().replicas);
    const problem = changed ? replicaSetProblem(target) : null;
    return {
      join: [...this.staged].filter(([, r]) => r === 'voter').map(([id]) => id),
      leave: [...this.leaving],
      learners: [...this.staged].filter(([, r]) => r === 'learner').map(([id]) => id),
      replicas: target,
      ...(problem !== null
        ? {
            rule: `staged: PBFT needs n = 3f+1 replicas (4, 7, 10, ...); the staged set has ${target.length}, so it is sent once the plan reaches a valid size`,
          }
        : {}),
    };
  }

  /** Sends the plan when it yields a valid new set; answers with `id`'s entry either way. */
  private async settle(id: string): Promise<PbftMember> {
    const c = this.view.pbftConfigurations();
    const target = this.target();
    if (sameSet(target, c.current.replicas) || replicaSetProblem(target) !== null) return { ...this.member(id), pending: this.plan() };
    if (c.next !== null) {
      throw new ApiError(409, {
        error: `a reconfiguration is pending (epoch ${c.next.epoch}, in force after sequence number ${c.next.since}); the change stays staged, retry once it is in force`,
        reason: 'change-in-flight',
        pending: this.plan(),
      });
    }
    const removed = c.current.replicas.filter((r) => !target.includes(r));
    const admin = this.adminClient();
    await this.untilUp(
      target.filter((r) => !c.current.replicas.includes(r)),
      this.config.requestTimeoutMs * 6,
    );
    let outcome;
    try {
      outcome = await admin.reconfigure(target);
    } catch (err) {
      if (err instanceof ReconfigurationTimeoutError) {
        throw new ApiError(504, {
          error: `the replicas did not answer the reconfiguration in time; it may still take effect (GET /v1/members): ${err.message}`,
        });
      }
      throw err;
    }
    if (!outcome.ok) {
      const pending = outcome.refusal.startsWith('another reconfiguration is pending');
      throw new ApiError(409, {
        error: `the reconfiguration was refused: ${outcome.refusal}`,
        reason: pending ? 'change-in-flight' : 'refused',
        pending: this.plan(),
      });
    }
    // Decided: the plan is spent. The new set takes over at the next checkpoint boundary.
    const next = { epoch: c.current.epoch + 1, replicas: target, since: sinceOf(outcome.detail) ?? c.current.since };
    for (const r of target) this.staged.delete(r);
    this.leaving.clear();
    this.view.pbftDecided(next);
    this.logger.log(`reconfiguration decided: ${outcome.detail}`);
    await this.untilInForce(next.epoch, this.config.requestTimeoutMs);
    for (const r of removed) void this.retireWhenSafe(r, next);
    return { ...this.member(id), configuration: this.view.pbftConfigurations().current, decided: outcome.detail };
  }

  /**
   * A joining replica votes from the boundary on, and a new set of 3f'+1 needs 2f'+1 of them: sent
   * while a joiner's process is still starting, the change would stall the cluster for that long.
   * So it is sent once every joiner is up (its beacon heard). It cannot catch up before: the
   * replicas serve state transfer only to replicas of a configuration they know, the decided next
   * one included (libs/consensus/src/pbft/replica.ts knows()), so joiners fetch the state once the
   * change is decided, before its boundary is reached. 409 when one does not come up: the plan
   * stays staged; promote retries it.
   */
  private async untilUp(joining: string[], withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const down = joining.filter((r) => !this.view.node(r).alive);
      if (down.length === 0) return;
      if (Date.now() >= deadline) {
        throw new ApiError(409, {
          error: `${down.join(', ')} did not come up within ${withinMs} ms; the change stays staged: retry with POST /v1/admin/members/${down[0]}/promote`,
          reason: 'learner-behind',
          pending: this.plan(),
        });
      }
      await sleep(POLL_MS);
    }
  }

  /** Waits (bounded) until the gateway trusts epoch `epoch` as in force: the answer then shows the new set. */
  private async untilInForce(epoch: number, withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    while (this.current().epoch < epoch && Date.now() < deadline) await sleep(POLL_MS);
  }

  // ---------------------------------------------------------------- processes

  /** Starts the replica on an empty machine (the launcher), trusting the configuration in force; elsewhere the operator did. */
  private async start(id: string): Promise<void> {
    if (!this.processes.present) return;
    try {
      await this.processes.act(id, 'join', this.config.controlTimeoutMs, { pbftConfiguration: this.current() });
    } catch (err) {
      if (err instanceof SupervisorRefusedError) throw new ApiError(409, { error: `the launcher could not start ${id}: ${err.message}`, node: id });
      throw err;
    }
  }

  private async retire(id: string): Promise<void> {
    if (this.processes.present) await this.processes.act(id, 'retire', this.config.controlTimeoutMs).catch(() => null);
  }

  /**
   * A removed replica keeps serving state transfer until the new set holds the state at its boundary
   * itself: it is stopped once it reports itself outside the configuration in force and 2f'+1
   * replicas of the new set report a stable checkpoint at or past the boundary (they can serve it,
   * with its certificate and the configuration links, to anyone who asks). Until then, or if that
   * never comes within the watch, it runs on: stopping it early could strand a lagging replica.
   */
  private async retireWhenSafe(id: string, next: PbftConfigurationView): Promise<void> {
    const deadline = Date.now() + RETIRE_WATCH_MS;
    const need = 2 * faultsOf(next.replicas.length) + 1;
    while (Date.now() < deadline) {
      const own = this.view.lastBeacon(id);
      const outside = own === null || !own.alive || (own.members !== undefined && own.members.index >= next.epoch && own.members.pbft?.member === false);
      const holding = next.replicas.filter((r) => {
        const b = this.view.lastBeacon(r);
        return b !== null && b.alive && (b.members?.index ?? -1) >= next.epoch && (b.stableCheckpoint ?? 0) >= next.since;
      }).length;
      if (outside && holding >= need) {
        this.logger.log(`retiring ${id}: removed in epoch ${next.epoch}, and ${holding} replicas of the new set hold checkpoint ${next.since} or later`);
        await this.retire(id);
        return;
      }
      await sleep(POLL_MS * 5);
    }
    this.logger.warn(
      `${id} was removed in epoch ${next.epoch} but is left running: the new set did not hold checkpoint ${next.since} within ${RETIRE_WATCH_MS} ms`,
    );
  }

  // ---------------------------------------------------------------- plumbing

  private adminClient(): PbftAdminClient {
    if (this.admin !== null) return this.admin;
    let crypto;
    try {
      const keys = loadKeys(this.config.keysDir, PBFT_ADMIN_ID, this.config.nodes);
      crypto = ed25519Crypto(keys.privateKeyPem, keys.publicKeys);
    } catch (err) {
      if (!(err instanceof KeyFileError)) throw err;
      throw new ApiError(501, { error: `this gateway holds no admin signing key, so it cannot reconfigure PBFT: ${err.message}`, reason: 'no-admin-key' });
    }
    this.admin = new PbftAdminClient(this.bus, crypto, () => this.view.pbftConfigurations(), {
      attemptTimeoutMs: this.config.attemptTimeoutMs,
      requestTimeoutMs: this.config.requestTimeoutMs,
    });
    return this.admin;
  }

  private serially<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private unknown(id: string): ApiError {
    const c = this.current();
    return ApiError.notFound(`unknown member ${JSON.stringify(id)}: neither a replica of the configuration in force nor a staged one`, {
      node: id,
      members: c.replicas,
      staged: [...this.staged.keys()],
    });
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** The boundary in the core's answer `ok: epoch E: ids from sequence number S+1`. */
function sinceOf(detail: string): number | null {
  const m = / from sequence number (\d+)$/.exec(detail);
  return m === null ? null : Number(m[1]) - 1;
}
