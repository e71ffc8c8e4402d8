import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { KvCommand, KvEffect, KvItem, KvResult, RefusalReason } from '@app/consensus/kv';
import type { Consistency, ReadQuery } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { CONSENSUS_CLIENT, type ConsensusClient, type ReadAnswer } from '../consensus/consensus-client';
import { ApiError } from '../http/api-error';
import { restRequestId } from '../http/idempotency-key';
import { PROBLEMS } from '../http/problem';
import type { KvLimits } from './kv-limits';
import { toRequest } from './kv-request';

/** A page of a prefix: `next` is the `after` of the next page, null on the last one. */
export interface KvPage {
  items: KvItem[];
  next: string | null;
  revision: number;
}

/** The one way in to the replicated store, for the REST controller and the batch worker alike. */
@Injectable()
export class KvService {
  readonly limits: KvLimits;
  /**
   * Writes sent without an Idempotency-Key are requests of this gateway's own session (one per
   * process): `<client>/<seq>` keeps what the replicas remember for them bounded (kv/sessions.ts).
   */
  private readonly ownClient = `gw-${randomUUID().slice(0, 13)}`;
  private ownSeq = 0;

  constructor(
    @Inject(CONSENSUS_CLIENT) private readonly client: ConsensusClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.limits = { maxKeyBytes: config.maxKeyBytes, maxValueBytes: config.maxValueBytes };
  }

  /**
   * Orders `cmd` under `requestId`: the same id twice with the same fingerprint is one effect and
   * one answer; with another fingerprint the answer is a `conflict` and nothing is applied.
   */
  execute(cmd: KvCommand, requestId: string, fingerprint?: string): Promise<KvResult> {
    return this.client.submit(toRequest(requestId, Date.now(), cmd, fingerprint));
  }

  /**
   * A REST write: under `rest:<Idempotency-Key>` (the gateway's own next `<client>/<seq>` when the
   * client sent none), with the request's fingerprint. A key already used for another request is
   * a 422; a key the replicas can no longer vouch for is a 409; in both, nothing is applied.
   */
  async write<C extends KvCommand>(cmd: C, idempotencyKey: string | undefined, fingerprint: string): Promise<Extract<KvEffect, { op: C['op'] }>> {
    const key = idempotencyKey ?? `${this.ownClient}/${++this.ownSeq}`;
    const result = await this.execute(cmd, restRequestId(key), fingerprint);
    if (result.op === 'refused') throw refusal(key, result.reason);
    if (result.op === 'no-lease')
      throw ApiError.notFound(`lease ${JSON.stringify(result.id)} does not exist (expired or revoked); nothing was applied`, {
        field: 'lease',
        lease: result.id,
      });
    if (result.op !== 'conflict' && answers(result, cmd)) return result as Extract<KvEffect, { op: C['op'] }>;
    throw new ApiError(
      422,
      {
        error: `Idempotency-Key ${JSON.stringify(key)} was already used for a different request (another method, path or body); nothing was applied. Send a new key for a new request`,
        field: 'Idempotency-Key',
      },
      {},
      PROBLEMS.idempotencyKeyReused,
    );
  }

  /** The key now, or as it was at `revision`: 410 when that is compacted away, 400 when it is in the future. */
  async get(key: string, consistency: Consistency, revision?: number): Promise<KvItem | null> {
    const answer = await this.client.read(randomUUID(), { op: 'get', key, ...(revision === undefined ? {} : { revision }) }, consistency);
    if (answer.compacted !== undefined) throw ApiError.compacted(revision ?? 0, answer.compacted);
    if (answer.future) throw ApiError.badField('revision', `revision ${revision} is in the future: the store is at revision ${answer.revision}`);
    return answer.items.find((i) => i.key === key) ?? null;
  }

  /** A lease as the replicas know it (remainingMs from the replica that decides expiry, when it answered); null when there is none. */
  async lease(id: string): Promise<NonNullable<ReadAnswer['lease']> | null> {
    return (await this.client.read(randomUUID(), { op: 'lease', id }, 'linearizable')).lease ?? null;
  }

  /**
   * One page of keys under a prefix, after `after` when given. One more item than the limit is
   * asked for, so that `next` is null exactly when nothing follows: the last page says so itself.
   */
  async list(query: Extract<ReadQuery, { op: 'list' }>, consistency: Consistency): Promise<KvPage> {
    const { items, revision } = await this.client.read(randomUUID(), { ...query, limit: query.limit + 1 }, consistency);
    const page = items.slice(0, query.limit);
    return { items: page, next: items.length > query.limit ? page[page.length - 1].key : null, revision };
  }
}

/** 409: the session no longer tells whether this key was applied, so it is not applied now. */
function refusal(key: string, reason: RefusalReason): ApiError {
  const why =
    reason === 'outside-window'
      ? "its sequence number fell out of its client's session window (later requests of the same client moved it on)"
      : "its client's session was dropped (the least recently active clients go when the replicas' session memory is full)";
  return new ApiError(
    409,
    {
      error: `Idempotency-Key ${JSON.stringify(key)} can no longer be deduplicated: ${why}. It was not applied now; an earlier attempt may have been. Read the key to find out; send a new key for a new request`,
      field: 'Idempotency-Key',
      reason,
    },
    {},
    PROBLEMS.idempotencyKeyExpired,
  );
}

/**
 * Whether `result` can be the answer to `cmd`. A replica that pairs answers with waiting requests
 * by id alone hands a request the result of another one under the same id that was in flight at
 * the same time (and applied first); such a result is about another command, so it is a reuse of
 * the key too. (What cannot be told apart this way: a failed cas on the same key.)
 */
function answers(result: KvEffect, cmd: KvCommand): boolean {
  if (result.op !== cmd.op) return false;
  if ('topic' in cmd) return 'topic' in result && result.topic === cmd.topic; // a publish's key is a message key, not a store key
  if (!('key' in cmd)) return true; // txn, compact: the fingerprint tells them apart
  if (!('key' in result) || result.key !== cmd.key) return false;
  if (cmd.op === 'put' || (cmd.op === 'cas' && result.op === 'cas' && result.succeeded)) return (result as { value: string | null }).value === cmd.value;
  return true;
}
