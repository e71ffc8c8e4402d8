import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { NODE_CONFIG } from '../config/config.module';
import type { NodeConfig } from '../config/node-config';
import { ReplicaService } from '../replica/replica.service';
import { catchUpTarget, isReady, knowsLeader, type ReplicaChecks } from './readiness';

/**
 * How long readiness waits for the replica to apply what was committed when asked, and for the
 * storage Redis to answer. Under load commitIndex runs a Ready ahead of appliedIndex at any given
 * instant; a replica that cannot close that gap within this long is behind (or stuck), not busy.
 */
export const READY_WAIT_MS = 500;
const POLL_MS = 10;

/**
 * Liveness (the process serves HTTP) apart from readiness (the replica takes part in consensus:
 * alive, storage and bus up, a leader known, caught up). An unready replica answers 503 with every check.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly replica: ReplicaService,
    @Inject(NODE_CONFIG) private readonly cfg: NodeConfig,
  ) {}

  @Get('live')
  live() {
    return { status: 'live', id: this.cfg.nodeId, pid: process.pid };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    const [storage, caughtUp] = await Promise.all([this.storageAnswers(), this.catchesUp()]);
    const fatal = this.replica.runtimeStatus()?.fatal;
    const checks: ReplicaChecks = {
      alive: this.replica.runtimeStatus() !== null,
      storage,
      bus: this.replica.bus.listening(),
      leader: knowsLeader(this.replica.runtimeStatus()),
      caughtUp,
      termLeft: fatal === undefined,
    };
    const ready = isReady(checks);
    res.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'unready', checks, ...this.replica.controlStatus(), ...(fatal !== undefined ? { fatal } : {}) };
  }

  /** Kept as an honest alias of /health/ready for existing probes: the same answer, the same status. */
  @Get()
  health(@Res({ passthrough: true }) res: Response) {
    return this.ready(res);
  }

  private async storageAnswers(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), READY_WAIT_MS)));
    try {
      return await Promise.race([this.replica.pingStorage().then((pong) => pong === 'PONG'), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the runtime applies, within READY_WAIT_MS, everything it knew committed when asked. */
  private async catchesUp(): Promise<boolean> {
    const first = this.replica.runtimeStatus();
    if (first === null || first.role === 'starting') return false;
    const target = catchUpTarget(this.cfg.protocol, first);
    if (target === null) return false; // Raft: no leader to be caught up with
    const deadline = Date.now() + READY_WAIT_MS;
    for (;;) {
      const s = this.replica.runtimeStatus();
      if (s === null) return false; // killed meanwhile
      if (s.appliedIndex >= target) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
