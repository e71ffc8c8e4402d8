import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue, type JobsOptions } from 'bullmq';
import Redis from 'ioredis';
import { redisOptions } from '@app/config';
import type { KvCommand } from '@app/consensus/kv';
import { GATEWAY_CONFIG } from '../config/config.module';
import { type GatewayConfig, redact } from '../config/config';
import { ApiError } from '../http/api-error';
import { PROBLEMS } from '../http/problem';
import { loadValue } from '../kv/json-value';
import { COMMANDS_QUEUE, queuePrefix, settledBeforeClose, type CommandsJobData, type CommandsJobResult } from './commands.queue';
import { jobIdFor } from './job-id';

export interface CommandsJobView {
  id: string;
  state: string;
  attemptsMade: number;
  /** The commands' results, values as the JSON clients wrote (json-value.ts). */
  results?: unknown[];
  error?: string;
}

function presentValues(r: CommandsJobResult['results'][number]): unknown {
  return 'value' in r && typeof r.value === 'string' ? { ...r, value: loadValue(r.value) } : r;
}

/** Accepts command batches into the queue and reports on them; the worker runs them. */
@Injectable()
export class CommandsService implements OnApplicationShutdown {
  private readonly logger = new Logger('CommandsService');
  private readonly queue: Queue<CommandsJobData, CommandsJobResult>;
  /** Ours, not BullMQ's: its close() can leave a connection reconnecting for good after a Redis restart. */
  private readonly redis: Redis;
  private readonly jobOptions: JobsOptions;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    // No offline queue: with Redis away a submission fails now (503) instead of hanging.
    this.redis = new Redis({ ...redisOptions(config.queueUrl).options, enableOfflineQueue: false, disconnectTimeout: 100 });
    this.redis.on('error', () => undefined); // reported through the queue's own 'error'
    this.queue = new Queue(COMMANDS_QUEUE, { connection: this.redis, prefix: queuePrefix(config) });
    this.queue.on('error', (err) => this.logger.warn(`queue Redis ${redact(config.queueUrl)}: ${err.message}`));
    this.jobOptions = {
      attempts: config.commandAttempts,
      backoff: { type: 'exponential', delay: config.commandBackoffMs },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600 },
    };
  }

  /**
   * A new job, or the existing one when the Idempotency-Key was seen before with the same request
   * (`fingerprint`); seen with another request, 422 and nothing is queued.
   */
  async submit(commands: KvCommand[], idempotencyKey: string | undefined, fingerprint: string): Promise<string> {
    const jobId = idempotencyKey === undefined ? randomUUID() : jobIdFor(idempotencyKey);
    const job = await this.unavailableOnError(() => this.queue.add('batch', { commands, fingerprint }, { ...this.jobOptions, jobId }));
    if (idempotencyKey !== undefined) {
      // BullMQ answers an existing id with our new data, not the stored data: read what is stored.
      const stored = await this.unavailableOnError(() => this.queue.getJob(jobId));
      if (stored !== undefined && stored.data.fingerprint !== fingerprint) throw keyReused(idempotencyKey);
    }
    return job.id ?? jobId;
  }

  async status(id: string): Promise<CommandsJobView> {
    // The state first: once it says completed or failed, the job's hash already holds the result
    // or the reason (one script writes both). Read the other way round, a job finishing in between
    // showed "failed" with no error.
    const state = await this.unavailableOnError(() => this.queue.getJobState(id));
    const job = await this.unavailableOnError(() => this.queue.getJob(id));
    if (!job || state === 'unknown') throw ApiError.notFound('no such command job', { id });
    const view: CommandsJobView = { id, state, attemptsMade: job.attemptsMade };
    if (state === 'completed' && job.returnvalue) view.results = job.returnvalue.results.map(presentValues);
    if (job.failedReason) view.error = job.failedReason;
    return view;
  }

  async onApplicationShutdown(): Promise<void> {
    await settledBeforeClose(this.queue);
    await this.queue.close().catch(() => undefined);
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  private async unavailableOnError<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      this.logger.warn(`command queue: ${(err as Error).message}`);
      throw new ApiError(503, { error: 'the command queue is unavailable (its Redis cannot be reached); retry later' }, { 'Retry-After': '1' });
    }
  }
}

function keyReused(idempotencyKey: string): ApiError {
  return new ApiError(
    422,
    {
      error: `Idempotency-Key ${JSON.stringify(idempotencyKey)} was already used for a different batch; nothing was queued. Send a new key for a new batch`,
      field: 'Idempotency-Key',
    },
    {},
    PROBLEMS.idempotencyKeyReused,
  );
}
