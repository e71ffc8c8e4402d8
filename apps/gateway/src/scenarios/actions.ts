import type { ByzantineBehavior } from '@app/wire';
import { ApiError } from '../http/api-error';
import type { ScenarioAction } from './scenario';

/**
 * The part of AdminService a scenario uses: every fault goes through the admin API's own code, so
 * a scenario can do nothing a person at the admin API could not, and is checked the same way.
 */
export interface ScenarioAdmin {
  kill(id: string, mode: 'soft' | 'hard'): Promise<unknown>;
  revive(id: string): Promise<unknown>;
  isolate(id: string): Promise<unknown>;
  heal(id: string): Promise<unknown>;
  byzantine(id: string, behavior: ByzantineBehavior): Promise<unknown>;
  storage(id: string, action: 'kill' | 'restart'): Promise<unknown>;
  cutLink(a: string, b: string): Promise<unknown>;
  healLink(a: string, b: string): Promise<unknown>;
}

/** One admin call's outcome, as the admin route would have answered it. */
export interface ActionOutcome {
  action: ScenarioAction;
  node: string;
  peer?: string;
  behavior?: string;
  /** The HTTP status the admin route would have answered. */
  status: number;
  /** On success, what the admin call returned. */
  result?: unknown;
  /** On failure, its RFC 9457 problem (type, title, detail and extensions). */
  problem?: Record<string, unknown>;
}

function call(admin: ScenarioAdmin, action: Exclude<ScenarioAction, 'heal-all'>, node: string, peer?: string, behavior?: ByzantineBehavior): Promise<unknown> {
  switch (action) {
    case 'kill':
      return admin.kill(node, 'soft');
    case 'hard-kill':
      return admin.kill(node, 'hard');
    case 'revive':
      return admin.revive(node);
    case 'isolate':
      return admin.isolate(node);
    case 'heal':
      return admin.heal(node);
    case 'byzantine':
      return admin.byzantine(node, behavior ?? 'none');
    case 'storage-kill':
      return admin.storage(node, 'kill');
    case 'storage-restart':
      return admin.storage(node, 'restart');
    case 'cut-link':
    case 'heal-link':
      if (peer === undefined) return Promise.reject(new ApiError(400, { error: `${action} needs a peer` }));
      return action === 'cut-link' ? admin.cutLink(node, peer) : admin.healLink(node, peer);
  }
}

/** Runs one admin action; never throws: a refusal or a timeout is an outcome like any other. */
export async function perform(
  admin: ScenarioAdmin,
  action: Exclude<ScenarioAction, 'heal-all'>,
  node: string,
  peer?: string,
  behavior?: ByzantineBehavior,
): Promise<ActionOutcome> {
  const base: ActionOutcome = { action, node, status: 200, ...(peer !== undefined && { peer }), ...(behavior !== undefined && { behavior }) };
  try {
    const result = await call(admin, action, node, peer, behavior);
    return { ...base, result };
  } catch (err) {
    if (err instanceof ApiError) return { ...base, status: err.status, problem: { ...err.problem } };
    return { ...base, status: 500, problem: { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: (err as Error).message } };
  }
}

export const succeeded = (o: ActionOutcome): boolean => o.status >= 200 && o.status < 300;
