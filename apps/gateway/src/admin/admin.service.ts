import { Inject, Injectable } from '@nestjs/common';
import {
  BYZANTINE_BEHAVIORS,
  controlPattern,
  supervisorPattern,
  type ControlRequest,
  type ControlStatus,
  type SupervisorRequest,
  type SupervisorStatus,
} from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { ApiError } from '../http/api-error';
import { ControlFailedError, ControlPlane, ControlTimeoutError } from './control-plane';

export type KillMode = 'soft' | 'hard';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The admin actions. kill/revive/isolate/heal/byzantine go to the replica's own control handler;
 * a hard kill (SIGKILL) and the respawn of a dead process go to the launcher's supervisor, which
 * exists only when the launcher owns the processes.
 */
@Injectable()
export class AdminService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly plane: ControlPlane,
  ) {}

  async kill(id: string, mode: KillMode): Promise<object> {
    this.checkNode(id);
    if (mode === 'soft') return this.control(id, { action: 'kill' });
    const status = await this.supervisor({ action: 'hard-kill', node: id }, this.config.controlTimeoutMs);
    if (status === null) {
      throw new ApiError(501, {
        error: 'a hard kill needs the launcher\'s supervisor (npm start owns the processes), and none answered; use kill without mode=hard',
        node: id,
      });
    }
    return { id, alive: false, mode: 'hard', ...processFields(status) };
  }

  async revive(id: string): Promise<object> {
    this.checkNode(id);
    // A process that is gone cannot revive itself: the supervisor starts a new one.
    const processes = await this.supervisor({ action: 'list' }, this.config.supervisorTimeoutMs);
    const proc = Array.isArray(processes) ? processes.find((p): p is SupervisorStatus => isRecord(p) && p.id === id) : undefined;
    if (proc !== undefined && proc.running === false) {
      const status = await this.supervisor({ action: 'respawn', node: id }, this.config.controlTimeoutMs);
      if (status === null) throw new ApiError(504, { error: `the supervisor did not confirm the respawn of ${id} within ${this.config.controlTimeoutMs} ms`, node: id });
      const fields = processFields(status);
      return { id, alive: fields.running ?? true, respawned: true, ...fields };
    }
    return this.control(id, { action: 'revive' });
  }

  isolate(id: string): Promise<ControlStatus> {
    this.checkNode(id);
    return this.control(id, { action: 'isolate' });
  }

  heal(id: string): Promise<ControlStatus> {
    this.checkNode(id);
    return this.control(id, { action: 'heal' });
  }

  byzantine(id: string, body: unknown): Promise<ControlStatus> {
    this.checkNode(id);
    if (this.config.protocol !== 'pbft') {
      throw new ApiError(400, { error: `byzantine behaviours exist only in PBFT clusters; this cluster runs ${this.config.protocol}` });
    }
    const behavior = isRecord(body) ? body.behavior : undefined;
    if (typeof behavior !== 'string' || !(BYZANTINE_BEHAVIORS as readonly string[]).includes(behavior)) {
      throw ApiError.badField('behavior', `behavior must be one of ${BYZANTINE_BEHAVIORS.join(', ')}, got ${JSON.stringify(behavior) ?? 'nothing'}`);
    }
    return this.control(id, { action: 'byzantine', behavior });
  }

  private checkNode(id: string): void {
    if (!this.config.nodes.includes(id)) throw ApiError.notFound(`unknown node ${JSON.stringify(id)}`, { node: id, nodes: this.config.nodes });
  }

  private async control(id: string, req: ControlRequest): Promise<ControlStatus> {
    let reply: unknown;
    try {
      reply = await this.plane.request(controlPattern(this.config.cluster, id), req, this.config.controlTimeoutMs);
    } catch (err) {
      if (err instanceof ControlTimeoutError) {
        throw new ApiError(504, { error: `node ${id} did not answer the ${req.action} request within ${err.timeoutMs} ms (is its process running?)`, node: id });
      }
      if (err instanceof ControlFailedError) throw new ApiError(502, { error: `node ${id} refused ${req.action}: ${err.detail}`, node: id });
      throw err;
    }
    if (!isRecord(reply) || typeof reply.id !== 'string' || typeof reply.alive !== 'boolean') {
      throw new ApiError(502, { error: `node ${id} answered ${req.action} with something that is not a status`, node: id });
    }
    return reply as unknown as ControlStatus;
  }

  /** The supervisor's answer, or null when there is no supervisor (nobody listens, or no answer in time). */
  private async supervisor(req: SupervisorRequest, timeoutMs: number): Promise<unknown> {
    const pattern = supervisorPattern(this.config.cluster);
    if ((await this.plane.hasListener(pattern, timeoutMs)) === false) return null;
    try {
      return await this.plane.request(pattern, req, timeoutMs);
    } catch (err) {
      if (err instanceof ControlTimeoutError) return null;
      if (err instanceof ControlFailedError) throw new ApiError(502, { error: `the supervisor refused ${req.action}: ${err.detail}`, node: req.node });
      throw err;
    }
  }
}

/** What a supervisor reply says about one process (lenient: the launcher owns that shape). */
function processFields(reply: unknown): { running?: boolean; pid?: number | null } {
  if (!isRecord(reply)) return {};
  const out: { running?: boolean; pid?: number | null } = {};
  if (typeof reply.running === 'boolean') out.running = reply.running;
  if (typeof reply.pid === 'number' || reply.pid === null) out.pid = reply.pid as number | null;
  return out;
}
