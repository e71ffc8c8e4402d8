import { Inject, Injectable } from '@nestjs/common';
import type { ConfChange } from '@app/consensus/raft';
import { MEMBERSHIP_REFUSED, membershipPattern, type MembershipReply, type MembershipRequest } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { ClusterView } from '../cluster/cluster-view';
import { ApiError } from '../http/api-error';
import { ControlFailedError, ControlPlane, ControlTimeoutError } from '../admin/control-plane';
import { SupervisorClient } from '../admin/supervisor-client';
import { addressOf, Members, type Member, type MembersList } from './members';

/** A learner is promoted once its matchIndex is within this many entries of the leader's commit (the core checks it too). */
const CATCH_UP_SLACK = 256;
const POLL_MS = 100;
/** Longer than the replicas' election timeout, after which the core abandons a transfer. */
const TRANSFER_REASK_MS = 1500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a refusal means for the client: the change cannot be made now (409), or names no member (404). */
const NOT_FOUND = new Set(['unknown-member']);
/** Refusals that pass by themselves within moments: a new leader committing its first entry, or a leader change. */
const TRANSIENT = new Set(['not-leader', 'leader-not-ready', 'transferring']);

/**
 * Membership at runtime (Raft): discovery from the leader's beacons, and the admin API's changes
 * sent to the leader over the control plane. One step at a time, as the core allows (one voter
 * moved, one change in flight); a voter is added as a learner and promoted once it caught up, so
 * that a blank voter never costs the cluster its quorum.
 */
@Injectable()
export class RaftMembers extends Members {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly view: ClusterView,
    private readonly plane: ControlPlane,
    private readonly processes: SupervisorClient,
  ) {
    super();
  }

  list(): MembersList {
    const m = this.view.members();
    const leader = this.view.leader();
    return { members: this.view.nodeIds.map((id) => this.member(id)), leader, configIndex: m.index, committed: m.committed };
  }

  member(id: string): Member {
    const m = this.view.members();
    const n = this.view.node(id);
    return {
      id,
      role: m.voters.includes(id) ? 'voter' : 'learner',
      alive: n.alive,
      leader: this.view.leader() === id,
      appliedIndex: n.appliedIndex,
      matchIndex: m.match[id] ?? null,
      address: addressOf(this.config.cluster, this.config.busRoutes, id),
    };
  }

  async add(id: string, role: 'learner' | 'voter'): Promise<Member> {
    if (!this.config.nodes.includes(id)) {
      throw ApiError.notFound(`unknown node ${JSON.stringify(id)}: not a provisioned replica identity (NODES; the launcher's --spares)`, {
        node: id,
        nodes: this.config.nodes,
      });
    }
    if (this.view.nodeIds.includes(id)) throw new ApiError(409, { error: `${id} is already a member`, node: id });
    // With the launcher, start the replica on an empty machine first; elsewhere the operator did.
    if (this.processes.present) await this.processes.act(id, 'join', this.config.controlTimeoutMs);
    try {
      await this.change([{ type: 'add-learner', id }]);
    } catch (err) {
      // Ids are never reused (Configuration.retired): the empty machine started for it goes again.
      if (err instanceof ApiError && err.problem.reason === 'retired-member') {
        if (this.processes.present) await this.processes.act(id, 'retire', this.config.controlTimeoutMs).catch(() => null);
        throw new ApiError(409, {
          error: `${id} was removed from this cluster, and ids are never reused: a machine added back under it would answer for the server that had it; add it under a new id (NODES, the launcher's --spares)`,
          reason: 'retired-member',
          node: id,
        });
      }
      throw err;
    }
    if (role === 'voter') await this.promoteWhenCaughtUp(id, this.config.requestTimeoutMs * 6);
    return this.member(id);
  }

  async promote(id: string): Promise<Member> {
    this.checkMember(id);
    await this.change([{ type: 'promote', id }]);
    return this.member(id);
  }

  async demote(id: string): Promise<Member> {
    this.checkMember(id);
    await this.change([{ type: 'demote', id }]);
    return this.member(id);
  }

  async remove(id: string): Promise<Member> {
    this.checkMember(id);
    const before = this.member(id);
    await this.change([{ type: 'remove', id }]);
    // The launcher stops the removed replica's process (its data stays until it is added again).
    if (this.processes.present) await this.processes.act(id, 'retire', this.config.controlTimeoutMs).catch(() => null);
    return { ...before, alive: false, leader: false };
  }

  async transfer(to: string): Promise<{ leader: string | null; from: string | null }> {
    this.checkMember(to);
    const from = this.view.leader();
    if (from === to) return { leader: to, from };
    // The core abandons a transfer that does not finish within an election timeout (the target
    // was still catching up, or its TimeoutNow was lost): watch the beacons, and ask again — of
    // whoever leads now — each time it may have been abandoned. Asking during a transfer in
    // progress changes nothing in the core.
    const deadline = Date.now() + this.config.requestTimeoutMs;
    while (Date.now() < deadline) {
      await this.send({ action: 'transfer', to });
      const askAgain = Math.min(deadline, Date.now() + TRANSFER_REASK_MS);
      while (Date.now() < askAgain) {
        if (this.view.leader() === to) return { leader: to, from };
        await sleep(POLL_MS);
      }
    }
    throw new ApiError(504, { error: `leadership did not move to ${to} within ${this.config.requestTimeoutMs} ms`, leader: this.view.leader() });
  }

  /** The learner caught up with the leader's commit: promote it; 409 (it stays a learner) when it does not in time. */
  private async promoteWhenCaughtUp(id: string, withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const leader = this.view.leader();
      const match = this.view.members().match[id];
      const commit = leader !== null ? this.view.node(leader).commitIndex : null;
      if (match !== undefined && match > 0 && commit !== null && match + CATCH_UP_SLACK >= commit) {
        try {
          await this.change([{ type: 'promote', id }]);
          return;
        } catch (err) {
          if (!(err instanceof ApiError) || err.status !== 409 || Date.now() >= deadline) throw err;
        }
      } else if (Date.now() >= deadline) {
        throw new ApiError(409, {
          error: `${id} was added as a learner but did not catch up within ${withinMs} ms; promote it later`,
          node: id,
          reason: 'learner-behind',
        });
      }
      await sleep(POLL_MS);
    }
  }

  /** Answered once the change is applied at the leader: the view takes the new configuration at once. */
  private async change(changes: ConfChange[]): Promise<MembershipReply> {
    const reply = await this.send({ action: 'change', changes });
    this.view.adoptMembership(reply);
    return reply;
  }

  /** To the leader; a transient refusal (no leader yet, a new one not ready) is retried until the request deadline. */
  private async send(req: MembershipRequest): Promise<MembershipReply> {
    const deadline = Date.now() + this.config.requestTimeoutMs;
    for (;;) {
      const leader = this.view.leader();
      if (leader === null) {
        if (Date.now() >= deadline) throw new ApiError(503, { error: 'no leader is known: the change cannot be made now' }, { 'Retry-After': '1' });
        await sleep(POLL_MS);
        continue;
      }
      try {
        return await this.plane.request<MembershipReply>(leader, membershipPattern(this.config.cluster, leader), req, Math.max(1, deadline - Date.now()));
      } catch (err) {
        if (err instanceof ControlTimeoutError) {
          throw new ApiError(504, { error: `the leader ${leader} did not confirm the change in time; it may still take effect (GET /v1/members)` });
        }
        if (!(err instanceof ControlFailedError)) throw err;
        const reason = refusal(err.detail);
        if (reason === null) throw new ApiError(502, { error: `the leader ${leader} could not make the change: ${err.detail}` });
        if (TRANSIENT.has(reason) && Date.now() < deadline) {
          await sleep(POLL_MS);
          continue;
        }
        if (NOT_FOUND.has(reason)) throw ApiError.notFound(`not a member: ${reason}`, { reason });
        if (TRANSIENT.has(reason)) throw new ApiError(503, { error: `the change cannot be made now (${reason})`, reason }, { 'Retry-After': '1' });
        throw new ApiError(409, { error: `the change was refused: ${reason}`, reason });
      }
    }
  }

  private checkMember(id: string): void {
    if (!this.view.nodeIds.includes(id)) throw ApiError.notFound(`unknown member ${JSON.stringify(id)}`, { node: id, members: this.view.nodeIds });
  }
}

/** `refused:<reason>[:<leaderHint>]` → reason; null for any other failure. */
function refusal(detail: string): string | null {
  if (!detail.startsWith(MEMBERSHIP_REFUSED)) return null;
  return detail.slice(MEMBERSHIP_REFUSED.length).split(':')[0];
}
