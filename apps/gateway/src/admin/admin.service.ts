import { Inject, Injectable } from '@nestjs/common';
import { controlPattern, type ByzantineBehavior, type ControlRequest, type ControlStatus, type SupervisorAction, type SupervisorStatus } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { ApiError } from '../http/api-error';
import { ControlFailedError, ControlPlane, ControlTimeoutError } from './control-plane';
import { SupervisorClient, SupervisorRefusedError } from './supervisor-client';
import { SharedTimeline } from '../lab/shared-timeline';

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
    private readonly processes: SupervisorClient,
    private readonly timeline: SharedTimeline,
  ) {}

  kill(id: string, mode: KillMode): Promise<object> {
    return this.audited(mode === 'hard' ? 'hard kill' : 'kill', id, () => this.killNow(id, mode));
  }

  private async killNow(id: string, mode: KillMode): Promise<object> {
    this.checkNode(id);
    if (mode === 'soft') return this.control(id, { action: 'kill' });
    const status = await this.supervisor(id, 'hard-kill');
    if (status === null) {
      throw new ApiError(501, {
        error: "a hard kill needs the launcher's supervisor (npm start owns the processes), and none is configured; use kill without mode=hard",
        node: id,
      });
    }
    return { ...status, alive: false, mode: 'hard' };
  }

  revive(id: string): Promise<object> {
    return this.audited('revive', id, () => this.reviveNow(id));
  }

  private async reviveNow(id: string): Promise<object> {
    this.checkNode(id);
    // A process that is gone cannot revive itself: the supervisor starts a new one.
    const processes = await this.processes.list(this.config.supervisorTimeoutMs).catch(() => null);
    const proc = processes?.find((p) => p.id === id);
    if (proc !== undefined && !proc.running) {
      // Only reached with a supervisor that listed the process: null here cannot mean "none configured".
      const status = await this.supervisor(id, 'respawn');
      if (status === null) throw new ApiError(501, { error: `respawn needs the launcher's supervisor, and none is configured`, node: id });
      return { ...status, alive: status.running, respawned: true };
    }
    return this.control(id, { action: 'revive' });
  }

  /** SIGKILL of the replica's own Redis (its storage and bus inbox): a disk and a NIC lost at once. */
  storage(id: string, action: 'kill' | 'restart'): Promise<SupervisorStatus> {
    return this.audited(`storage ${action}`, id, () => this.storageNow(id, action));
  }

  private async storageNow(id: string, action: 'kill' | 'restart'): Promise<SupervisorStatus> {
    this.checkNode(id);
    const status = await this.supervisor(id, action === 'kill' ? 'storage-kill' : 'storage-restart');
    if (status === null) {
      throw new ApiError(501, {
        error: `storage ${action} needs the launcher's supervisor (npm start owns the Redis processes), and none is configured`,
        node: id,
      });
    }
    return status;
  }

  isolate(id: string): Promise<ControlStatus> {
    return this.audited('isolate', id, () => {
      this.checkNode(id);
      return this.control(id, { action: 'isolate' });
    });
  }

  heal(id: string): Promise<ControlStatus> {
    return this.audited('heal', id, () => {
      this.checkNode(id);
      return this.control(id, { action: 'heal' });
    });
  }

  /**
   * A partition between two replicas: both ends are told, so frames are dropped both ways. The cut
   * lives in each replica process: one killed and revived keeps it, one whose process is replaced
   * (hard kill, crash) forgets its end, and the link stays cut one way until healed. The answer is
   * both ends' status; when only one end could be told, the error says which.
   */
  cutLink(a: string, b: string): Promise<{ link: [string, string]; cut: boolean; nodes: ControlStatus[] }> {
    return this.audited('cut link', `${a}|${b}`, () => this.link(a, b, 'cut'));
  }

  healLink(a: string, b: string): Promise<{ link: [string, string]; cut: boolean; nodes: ControlStatus[] }> {
    return this.audited('heal link', `${a}|${b}`, () => this.link(a, b, 'mend'));
  }

  private async link(a: string, b: string, action: 'cut' | 'mend'): Promise<{ link: [string, string]; cut: boolean; nodes: ControlStatus[] }> {
    this.checkNode(a);
    this.checkNode(b);
    if (a === b) throw new ApiError(400, { error: `a link joins two different replicas, got ${a} twice`, field: 'b' });
    const ends = await Promise.allSettled([this.control(a, { action, peer: b }), this.control(b, { action, peer: a })]);
    const failed = ends.flatMap((e, i) => (e.status === 'rejected' ? [{ node: [a, b][i], reason: e.reason as unknown }] : []));
    if (failed.length === 1 && failed[0].reason instanceof ApiError) {
      const other = failed[0].node === a ? b : a;
      const err = failed[0].reason;
      throw new ApiError(err.status, { error: `${action} reached ${other} only: ${err.message}`, node: failed[0].node, applied: [other] });
    }
    if (failed.length > 0) throw failed[0].reason;
    return { link: [a, b], cut: action === 'cut', nodes: ends.map((e) => (e as PromiseFulfilledResult<ControlStatus>).value) };
  }

  /** `behavior` was checked against BYZANTINE_BEHAVIORS by ByzantineBodyDto's schema. */
  byzantine(id: string, behavior: ByzantineBehavior): Promise<ControlStatus> {
    return this.audited(`byzantine ${behavior}`, id, () => {
      this.checkNode(id);
      if (this.config.protocol !== 'pbft') {
        throw new ApiError(400, { error: `byzantine behaviours exist only in PBFT clusters; this cluster runs ${this.config.protocol}` });
      }
      return this.control(id, { action: 'byzantine', behavior });
    });
  }

  /** Every action goes on the fault lab's timeline with its outcome, whoever asked (the page, a script, a scenario). */
  private async audited<T>(action: string, target: string, run: () => Promise<T>): Promise<T> {
    const node = target.includes('|') ? undefined : target;
    try {
      const result = await run();
      this.timeline.share({
        kind: 'admin',
        source: 'admin',
        node,
        text: `admin: ${action} ${target.replace('|', ' - ')}`,
        data: { action, target, status: 200 },
      });
      return result;
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 500;
      const detail = err instanceof Error ? err.message : String(err);
      this.timeline.share({
        kind: 'admin',
        source: 'admin',
        node,
        text: `admin: ${action} ${target.replace('|', ' - ')} failed (${status}): ${detail}`,
        data: { action, target, status },
      });
      throw err;
    }
  }

  private checkNode(id: string): void {
    if (!this.config.nodes.includes(id)) throw ApiError.notFound(`unknown node ${JSON.stringify(id)}`, { node: id, nodes: this.config.nodes });
  }

  private async control(id: string, req: ControlRequest): Promise<ControlStatus> {
    let reply: unknown;
    try {
      reply = await this.plane.request(id, controlPattern(this.config.cluster, id), req, this.config.controlTimeoutMs);
    } catch (err) {
      if (err instanceof ControlTimeoutError) {
        throw new ApiError(504, {
          error: `node ${id} did not answer the ${req.action} request within ${err.timeoutMs} ms (is its process running?)`,
          node: id,
        });
      }
      if (err instanceof ControlFailedError) throw new ApiError(502, { error: `node ${id} refused ${req.action}: ${err.detail}`, node: id });
      throw err;
    }
    if (!isRecord(reply) || typeof reply.id !== 'string' || typeof reply.alive !== 'boolean') {
      throw new ApiError(502, { error: `node ${id} answered ${req.action} with something that is not a status`, node: id });
    }
    return reply as unknown as ControlStatus;
  }

  /**
   * The supervisor's answer, or null when none is configured. A configured supervisor that does not
   * answer in time is a 504: the action may have happened. A 401 means our SUPERVISOR_TOKEN is not
   * its token: the gateway is misconfigured (502), not the request in conflict (409).
   */
  private async supervisor(node: string, action: SupervisorAction): Promise<SupervisorStatus | null> {
    let status: SupervisorStatus | null;
    try {
      status = await this.processes.act(node, action, this.config.controlTimeoutMs);
    } catch (err) {
      if (!(err instanceof SupervisorRefusedError)) throw err;
      if (err.status === 401) throw new ApiError(502, { error: `the supervisor refused the gateway's SUPERVISOR_TOKEN for ${action}: ${err.message}`, node });
      throw new ApiError(409, { error: `the supervisor refused ${action}: ${err.message}`, node });
    }
    if (status === null && this.processes.present) {
      throw new ApiError(504, {
        error: `the supervisor did not answer ${action} of ${node} within ${this.config.controlTimeoutMs} ms; it may have happened (GET /v1/cluster shows who is alive)`,
        node,
      });
    }
    return status;
  }
}
