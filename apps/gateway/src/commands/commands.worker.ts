import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { redisOptions } from '@app/config';
import type { KvResult } from '@app/consensus/kv';
import { GATEWAY_CONFIG } from '../config/config.module';
import { type GatewayConfig, redact } from '../config/config';
import { ConsensusTimeoutError, ConsensusUnavailableError } from '../consensus/errors';
import { KvService } from '../kv/kv.service';
import { COMMANDS_QUEUE, queuePrefix, settledBeforeClose, type CommandsJobData, type CommandsJobResult } from './commands.queue';
import { commandRequestId } from './job-id';

/**
 * Runs queued batches through the same KvService as the REST calls. Commands of a batch go one
 * after another, so they apply in the order given. While there is no leader (or an answer is
 * missing) the job fails and BullMQ retries it with exponential backoff; every command keeps its
 * request id across attempts, so what was applied before is answered from the state machine's
 * session, not applied again.
 */
@Injectable()
export class CommandsWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('CommandsWorker');
  private worker: Worker<CommandsJobData, CommandsJobResult> | null = null;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly kv: KvService,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<CommandsJobData, CommandsJobResult>(COMMANDS_QUEUE, (job) => this.run(job), {
      // Blocking commands must wait out a Redis restart rather than fail (BullMQ requires null here).
      // disconnectTimeout: ioredis keeps a timer that long after a forced close (default 2 s).
      connection: { ...redisOptions(this.config.queueUrl).options, maxRetriesPerRequest: null, disconnectTimeout: 100 },
      prefix: queuePrefix(this.config),
      concurrency: 16,
      // Seconds an idle worker blocks waiting for a job; BullMQ keeps a timer that long (+1 s)
      // even after a forced close, which holds the process up at shutdown.
      drainDelay: 1,
    });
    this.worker.on('error', (err) => this.logger.warn(`worker Redis ${redact(this.config.queueUrl)}: ${err.message}`));
  }

  // Forced: a graceful close waits on the blocking connection, which can hang for good after a
  // Redis restart. A job cut short loses its lock and is run again, with the same request ids.
  async onModuleDestroy(): Promise<void> {
    if (this.worker) await settledBeforeClose(this.worker);
    await this.worker?.close(true);
  }

  private async run(job: Job<CommandsJobData, CommandsJobResult>): Promise<CommandsJobResult> {
    const jobId = job.id as string;
    const results: KvResult[] = [];
    for (const [i, cmd] of job.data.commands.entries()) {
      let result: KvResult;
      try {
        result = await this.kv.execute(cmd, commandRequestId(jobId, i), job.data.fingerprint);
      } catch (err) {
        if (err instanceof ConsensusUnavailableError || err instanceof ConsensusTimeoutError) {
          throw new Error(`command ${i}: ${err.message}; will retry`, { cause: err });
        }
        throw new UnrecoverableError(`command ${i}: ${(err as Error).message}`);
      }
      // Its request id was first used by another batch under this job id (one removed and
      // submitted anew within the dedup window): nothing of this one may be applied under it.
      if (result.op === 'conflict') throw new UnrecoverableError(`command ${i}: the job id was already used by a different batch; nothing applied`);
      // A retried job whose early commands fell out of its session window: they may have applied
      // on an earlier attempt and cannot be told apart any more, so the batch stops here.
      if (result.op === 'refused') throw new UnrecoverableError(`command ${i}: refused (${result.reason}): can no longer be deduplicated; not applied now`);
      results.push(result);
    }
    return { results };
  }
}
