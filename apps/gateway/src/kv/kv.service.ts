import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { KvCommand, KvItem, KvResult } from '@app/consensus/kv';
import type { Consistency, ReadQuery } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { CONSENSUS_CLIENT, type ConsensusClient } from '../consensus/consensus-client';
import type { KvLimits } from './kv-limits';
import { toRequest } from './kv-request';

/** The one way in to the replicated store, for the REST controller and the batch worker alike. */
@Injectable()
export class KvService {
  readonly limits: KvLimits;

  constructor(
    @Inject(CONSENSUS_CLIENT) private readonly client: ConsensusClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.limits = { maxKeyBytes: config.maxKeyBytes, maxValueBytes: config.maxValueBytes };
  }

  /** Orders `cmd` under `requestId` (a fresh one when none): the same id twice is one effect, one answer. */
  execute(cmd: KvCommand, requestId: string = randomUUID()): Promise<KvResult> {
    return this.client.submit(toRequest(requestId, Date.now(), cmd));
  }

  async get(key: string, consistency: Consistency): Promise<KvItem | null> {
    const items = await this.client.read(randomUUID(), { op: 'get', key }, consistency);
    return items.find((i) => i.key === key) ?? null;
  }

  list(query: Extract<ReadQuery, { op: 'list' }>, consistency: Consistency): Promise<KvItem[]> {
    return this.client.read(randomUUID(), query, consistency);
  }
}
