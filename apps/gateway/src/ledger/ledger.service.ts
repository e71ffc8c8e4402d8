import { Inject, Injectable } from '@nestjs/common';
import type { LedgerBlocksAnswer } from '@app/consensus/ledger';
import { ledgerPattern, type LedgerBlocksReply, type LedgerHashReply, type LedgerRequest, type LedgerVerifyReply } from '@app/wire';
import { ControlPlane } from '../admin/control-plane';
import { ClusterView } from '../cluster/cluster-view';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { ApiError } from '../http/api-error';
import { PROBLEMS } from '../http/problem';
import { agreedBlocks } from './ledger-quorum';

/** A replica's storage recheck reads its whole log since the snapshot: give it time. */
const VERIFY_TIMEOUT_MS = 15_000;
const BLOCKS_TIMEOUT_MS = 5_000;

export interface ReplicaLedgerReport {
  id: string;
  /** It answered (false: unreachable, or its answer failed authentication). */
  reachable: boolean;
  alive: boolean;
  intact: boolean | null;
  index: number | null;
  head: string | null;
  firstBadIndex?: number;
  reason?: string;
  /** Its hash at the common index (null: not held, or not asked). */
  hashAtCommon: string | null;
}

export interface LedgerVerifyReport {
  ok: boolean;
  protocol: 'raft' | 'pbft';
  /** The lowest applied index of the live replicas: where their chains are compared. */
  commonIndex: number | null;
  /** Every live replica has the same hash at commonIndex. */
  agree: boolean;
  replicas: ReplicaLedgerReport[];
}

const unavailable = (detail: string): ApiError => new ApiError(503, { error: detail }, { 'Retry-After': '1' }, PROBLEMS.unavailable);

/**
 * The ledger routes' work: ask replicas through the control plane's sealed door (the replica's
 * ledger pattern, apps/node/src/ledger/ledger-handler.ts) and put their answers together.
 */
@Injectable()
export class LedgerService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly plane: ControlPlane,
    private readonly view: ClusterView,
  ) {}

  private ask<T>(id: string, req: LedgerRequest, timeoutMs: number): Promise<T> {
    return this.plane.request<T>(id, ledgerPattern(this.config.cluster, id), req, timeoutMs);
  }

  private get f(): number {
    return Math.floor((this.view.nodeIds.length - 1) / 3);
  }

  /** Raft: the leader's applied blocks. PBFT: the blocks f+1 replicas agree on, with the certificates. */
  async blocks(from: number, limit: number): Promise<LedgerBlocksAnswer> {
    const req: LedgerRequest = { action: 'blocks', from, limit };
    if (this.view.protocol === 'raft') {
      const leader = this.view.leader();
      if (leader === null) throw unavailable('no leader known: the ledger is read from the leader');
      let reply: LedgerBlocksReply;
      try {
        reply = await this.ask<LedgerBlocksReply>(leader, req, BLOCKS_TIMEOUT_MS);
      } catch (err) {
        throw unavailable(`the leader ${leader} did not answer: ${(err as Error).message}`);
      }
      if ('compacted' in reply) throw compacted(from, reply.compacted);
      return reply;
    }
    const replies = await Promise.allSettled(this.view.nodeIds.map((id) => this.ask<LedgerBlocksReply>(id, req, BLOCKS_TIMEOUT_MS)));
    const answers: LedgerBlocksAnswer[] = [];
    const compactions: number[] = [];
    for (const r of replies) {
      if (r.status !== 'fulfilled') continue;
      if ('compacted' in r.value) compactions.push(r.value.compacted);
      else if (r.value.protocol === 'pbft' && Array.isArray(r.value.blocks)) answers.push(r.value);
    }
    // Compacted on f+1 replicas: at least one correct replica no longer has it.
    if (compactions.length >= this.f + 1 && answers.every((a) => a.blocks.length === 0)) throw compacted(from, Math.min(...compactions));
    const agreed = agreedBlocks(answers, from, this.f);
    if (agreed === null) throw unavailable('no replica answered with blocks that hold');
    return agreed;
  }

  /** Every replica rechecks its chain against its storage; then their hashes are compared at one index. */
  async verify(): Promise<LedgerVerifyReport> {
    const ids = this.view.nodeIds;
    const settled = await Promise.allSettled(ids.map((id) => this.ask<LedgerVerifyReply>(id, { action: 'verify' }, VERIFY_TIMEOUT_MS)));
    const reports: ReplicaLedgerReport[] = ids.map((id, i) => {
      const r = settled[i];
      if (r.status !== 'fulfilled')
        return { id, reachable: false, alive: false, intact: null, index: null, head: null, reason: (r.reason as Error)?.message, hashAtCommon: null };
      const v = r.value;
      if (!v.alive) return { id, reachable: true, alive: false, intact: null, index: null, head: null, reason: 'killed', hashAtCommon: null };
      return {
        id,
        reachable: true,
        alive: true,
        intact: v.intact,
        index: v.index,
        head: v.head,
        ...(v.firstBadIndex !== undefined ? { firstBadIndex: v.firstBadIndex } : {}),
        ...(v.reason !== undefined ? { reason: v.reason } : {}),
        hashAtCommon: null,
      };
    });
    const live = reports.filter((r) => r.alive && r.index !== null && r.head !== null);
    const commonIndex = live.length > 0 ? Math.min(...live.map((r) => r.index!)) : null;
    if (commonIndex !== null) {
      const hashes = await Promise.allSettled(live.map((r) => this.ask<LedgerHashReply>(r.id, { action: 'hash', index: commonIndex }, BLOCKS_TIMEOUT_MS)));
      live.forEach((r, i) => {
        const h = hashes[i];
        r.hashAtCommon = h.status === 'fulfilled' ? h.value.hash : null;
      });
    }
    const agree = commonIndex !== null && live.every((r) => r.hashAtCommon !== null && r.hashAtCommon === live[0].hashAtCommon);
    const ok = agree && live.length === reports.length && reports.every((r) => r.intact === true);
    return { ok, protocol: this.view.protocol, commonIndex, agree, replicas: reports };
  }
}

function compacted(from: number, through: number): ApiError {
  return new ApiError(
    410,
    { error: `from ${from} is compacted: the blocks kept start after ${through}`, field: 'from', compactedThrough: through },
    {},
    PROBLEMS.compacted,
  );
}
