import { Inject, Injectable } from '@nestjs/common';
import type { SupervisorAction, SupervisorActionOptions, SupervisorStatus } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';

/** The supervisor said no (unknown node, no per-replica Redis, ...; 401: our token is not its token). */
export class SupervisorRefusedError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The launcher's supervisor over HTTP (SUPERVISOR_URL with SUPERVISOR_TOKEN): hard kill, respawn,
 * storage-Redis kill and restart. Absent (null from every call) when the gateway was not started by
 * the launcher, e.g. under compose, where the restart policy is the supervisor.
 */
@Injectable()
export class SupervisorClient {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  get present(): boolean {
    return this.config.supervisorUrl !== null;
  }

  /** Every replica's process status, or null without a supervisor or when it does not answer in time. */
  list(timeoutMs: number): Promise<SupervisorStatus[] | null> {
    return this.call<SupervisorStatus[]>('GET', '/v1/nodes', timeoutMs);
  }

  /** `options`: what the action needs beyond the node (`join` of a PBFT replica: the configuration it trusts). */
  act(node: string, action: SupervisorAction, timeoutMs: number, options?: SupervisorActionOptions): Promise<SupervisorStatus | null> {
    return this.call<SupervisorStatus>('POST', `/v1/nodes/${encodeURIComponent(node)}/${action}`, timeoutMs, options);
  }

  private async call<T>(method: string, path: string, timeoutMs: number, payload?: unknown): Promise<T | null> {
    if (this.config.supervisorUrl === null) return null;
    let res: Response;
    try {
      res = await fetch(this.config.supervisorUrl + path, {
        method,
        headers: { authorization: `Bearer ${this.config.supervisorToken ?? ''}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      return null; // gone or too slow: the caller answers as if there were none
    }
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    if (!res.ok) throw new SupervisorRefusedError(body.error ?? `status ${res.status}`, res.status);
    return body as T;
  }
}
