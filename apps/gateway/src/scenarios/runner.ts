import { randomUUID } from 'node:crypto';
import type { ByzantineBehavior } from '@app/wire';
import { ApiError } from '../http/api-error';
import type { LabEventInput } from '../lab/lab-events';
import { perform, succeeded, type ActionOutcome, type ScenarioAdmin } from './actions';
import { SCENARIOS } from './catalogue';
import { damageOf, healPlan, type ReplicaState } from './heal';
import { planRun, seconds } from './plan';
import { type RunMeta, type RunStore, type RunSummary, type RunView, type StepRecord } from './run-store';
import type { PlannedStep, Scenario } from './scenario';
import { endJobId, SCENARIO_JOB_OPTIONS, stepJobId, type ScenarioJobData } from './scenarios.queue';
import { resolvePeers, resolveTarget, type ClusterPicture, type Resolved } from './targets';

/** The part of a BullMQ Queue the runner uses. */
export interface ScenarioQueue {
  addBulk(jobs: Array<{ name: string; data: ScenarioJobData; opts: Record<string, unknown> }>): Promise<unknown>;
  remove(jobId: string): Promise<number>;
}

export interface RunnerDeps {
  store: RunStore;
  queue: ScenarioQueue;
  admin: () => ScenarioAdmin;
  /** The cluster now, from the beacons. */
  cluster: () => { picture: ClusterPicture; replicas: ReplicaState[] };
  protocol: 'raft' | 'pbft';
  supervisor: boolean;
  timeline: (event: LabEventInput) => void;
  /** The scenarios (default: catalogue.ts's). */
  scenarios?: readonly Scenario[];
  now?: () => number;
  /** How long a step waits for a leader to be known (an election under way) before failing. */
  leaderWaitMs?: number;
  /** How long the end (or a cancel) waits for steps still due or running before healing. */
  settleWaitMs?: number;
}

/** After the end is due, the slot is held this much longer at most (a gateway that died mid-run frees it). */
const SLOT_GRACE_MS = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Why a scenario cannot run on this cluster, or null. */
export function inapplicable(s: Scenario, protocol: 'raft' | 'pbft', supervisor: boolean): string | null {
  if (!s.protocols.includes(protocol)) return `scenario ${s.name} applies to ${s.protocols.join(' and ')} clusters; this one runs ${protocol}`;
  if (s.requires.includes('supervisor') && !supervisor)
    return `scenario ${s.name} needs the launcher's supervisor (npm start owns the processes), and none is configured`;
  return null;
}

/**
 * Starts runs, runs their steps (called by the BullMQ worker of whichever gateway process took
 * the job), cancels them, and ends every run with a heal-all. All state is in the RunStore.
 */
export class ScenarioRunner {
  private readonly now: () => number;
  private readonly leaderWaitMs: number;
  private readonly settleWaitMs: number;

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.leaderWaitMs = deps.leaderWaitMs ?? 5_000;
    this.settleWaitMs = deps.settleWaitMs ?? 20_000;
  }

  async start(name: string, speed: number): Promise<RunView> {
    const scenario = (this.deps.scenarios ?? SCENARIOS).find((s) => s.name === name);
    if (scenario === undefined) throw ApiError.notFound(`unknown scenario ${JSON.stringify(name)}`, { scenario: name });
    const why = inapplicable(scenario, this.deps.protocol, this.deps.supervisor);
    if (why !== null) throw new ApiError(409, { error: why, scenario: name, protocol: this.deps.protocol });

    const id = randomUUID();
    const startedAt = this.now();
    const { steps, end } = planRun(scenario, speed, this.deps.cluster().picture.members.length);
    const meta: RunMeta = {
      id,
      scenario: scenario.name,
      title: scenario.title,
      protocol: this.deps.protocol,
      speed,
      startedAt,
      endsAt: startedAt + end,
      stepCount: steps.length,
    };
    const holder = await this.deps.store.claimSlot(id, end + SLOT_GRACE_MS);
    if (holder !== null) {
      const other = await this.deps.store.meta(holder);
      throw new ApiError(409, {
        error: `run ${holder}${other ? ` of scenario ${other.scenario}` : ''} is in progress (one run at a time per cluster); cancel it with DELETE /v1/admin/scenarios/runs/${holder} or wait for it to end`,
        run: holder,
        ...(other && { scenario: other.scenario, endsAt: new Date(other.endsAt).toISOString() }),
      });
    }
    try {
      await this.deps.store.create(meta, steps);
      const delay = (at: number): number => Math.max(0, startedAt + at - this.now());
      await this.deps.queue.addBulk([
        ...steps.map((s) => ({
          name: 'step',
          data: { kind: 'step' as const, run: id, index: s.index },
          opts: { ...SCENARIO_JOB_OPTIONS, jobId: stepJobId(id, s.index), delay: delay(s.at) },
        })),
        { name: 'end', data: { kind: 'end' as const, run: id }, opts: { ...SCENARIO_JOB_OPTIONS, jobId: endJobId(id), delay: delay(end) } },
      ]);
    } catch (err) {
      await this.deps.store.releaseSlot(id).catch(() => undefined);
      throw err;
    }
    this.event(meta, `scenario ${scenario.name} started: ${steps.length} steps over ${seconds(end)} (speed ×${speed})`, {
      state: 'running',
      status: 'started',
      title: scenario.title,
      steps: steps.length,
      endsAt: meta.endsAt,
    });
    return (await this.deps.store.view(id))!;
  }

  async view(id: string): Promise<RunView> {
    const view = await this.deps.store.view(id);
    if (view === null) throw ApiError.notFound(`no scenario run ${JSON.stringify(id)}`, { run: id });
    return view;
  }

  /** BullMQ's processor: never throws for a step that fails (it is recorded, not retried). */
  async process(data: ScenarioJobData): Promise<void> {
    if (data.kind === 'step') await this.runStep(data.run, data.index);
    else await this.end(data.run);
  }

  /** Removes what is still due, waits for a step under way, heals everything, ends the run `cancelled`. */
  async cancel(id: string): Promise<RunView> {
    const meta = await this.deps.store.meta(id);
    if (meta === null) throw ApiError.notFound(`no scenario run ${JSON.stringify(id)}`, { run: id });
    const was = await this.deps.store.transition(id, ['running'], 'cancelling');
    if (was === null) {
      const state = await this.deps.store.state(id);
      if (state === 'cancelled' || state === 'cancelling') return this.view(id); // cancelled twice: one effect
      throw new ApiError(409, {
        error: `run ${id} is ${state === 'healing' ? 'ending (healing the cluster) already' : `over (${state})`}; nothing to cancel`,
        run: id,
        state,
      });
    }
    const view = (await this.deps.store.view(id))!;
    for (const s of view.steps) if (s.status === 'pending') await this.deps.queue.remove(stepJobId(id, s.index)).catch(() => 0);
    await this.deps.queue.remove(endJobId(id)).catch(() => 0);
    await this.deps.store.cancelPending(id, 'the run was cancelled before this step was due');
    await this.settled(id, () => true);
    await this.close(meta, 'cancelled');
    return this.view(id);
  }

  private async runStep(id: string, index: number): Promise<void> {
    const meta = await this.deps.store.meta(id);
    const step = await this.deps.store.step(id, index);
    if (meta === null || step === null) return; // expired or never stored: nothing to do
    if (!(await this.deps.store.claimStep(id, index))) {
      // The run is no longer running (cancelled, or its end came first): the step never acts.
      if (step.status === 'pending') await this.deps.store.settleStep(id, { ...step, status: 'cancelled', error: 'the run had ended before this step ran' });
      return;
    }
    const startedAt = this.now();
    const record = await this.act(meta, step);
    await this.deps.store.settleStep(id, { ...record, startedAt, finishedAt: this.now() });
    const who = record.nodes && record.nodes.length > 0 ? record.nodes.join(', ') : (step.target ?? '');
    const outcome = record.status === 'done' ? 'ok' : (record.error ?? record.outcomes?.find((o) => !succeeded(o))?.problem?.detail ?? 'failed');
    this.event(
      meta,
      `scenario ${meta.scenario} step ${index + 1}/${meta.stepCount}: ${step.text}${who ? ` → ${who}` : ''}: ${outcome}`,
      {
        state: record.status === 'done' ? 'done' : 'failed',
        step: index,
        action: step.action,
        target: step.target ?? null,
        nodes: record.nodes ?? [],
        status: record.outcomes?.map((o) => o.status) ?? [],
        ...(record.error !== undefined && { error: record.error }),
        ...(record.outcomes?.some((o) => !succeeded(o)) && { problems: record.outcomes.filter((o) => !succeeded(o)).map((o) => o.problem) }),
      },
      record.nodes?.length === 1 ? record.nodes[0] : undefined,
    );
  }

  /** Resolves the target now and carries the action out on each node. */
  private async act(meta: RunMeta, step: StepRecord): Promise<StepRecord> {
    if (step.action === 'heal-all') {
      const outcomes = await this.healAll(meta.id);
      return { ...step, status: outcomes.every(succeeded) ? 'done' : 'failed', nodes: [...new Set(outcomes.map((o) => o.node))], outcomes };
    }
    const resolved = await this.resolveWaiting(meta.id, step);
    if ('error' in resolved) return { ...step, status: 'failed', error: resolved.error, outcomes: [] };
    const nodes = resolved.nodes;
    if (step.remember !== undefined) await this.deps.store.remember(meta.id, step.remember, nodes);
    const outcomes: ActionOutcome[] = [];
    let peersSeen: string[] = [];
    for (const node of nodes) {
      let peers: Array<string | undefined> = [undefined];
      if (step.action === 'cut-link' || step.action === 'heal-link') {
        const { picture } = this.deps.cluster();
        const r = resolvePeers(step.peer, node, picture, await this.deps.store.vars(meta.id));
        if ('error' in r) return { ...step, status: 'failed', nodes, error: r.error, outcomes };
        peers = r.nodes;
        peersSeen = [...new Set([...peersSeen, ...r.nodes])];
      }
      for (const peer of peers) outcomes.push(await this.performTracked(meta.id, step.action, node, peer, step.behavior));
    }
    if (step.rememberPeers !== undefined) await this.deps.store.remember(meta.id, step.rememberPeers, peersSeen);
    if (outcomes.length === 0) return { ...step, status: 'failed', nodes, error: 'nothing to act on (no peers)', outcomes };
    return { ...step, status: outcomes.every(succeeded) ? 'done' : 'failed', nodes, outcomes };
  }

  /** A target naming the leader waits while nobody leads (an election or view change under way), up to leaderWaitMs. */
  private async resolveWaiting(id: string, step: PlannedStep): Promise<Resolved> {
    const deadline = this.now() + this.leaderWaitMs;
    for (;;) {
      const r = resolveTarget(step.target, this.deps.cluster().picture, await this.deps.store.vars(id), step.repetition);
      if ('nodes' in r || !r.waitForLeader || this.now() >= deadline) {
        return 'error' in r && r.waitForLeader ? { error: `${r.error} (waited ${this.leaderWaitMs} ms)` } : r;
      }
      await sleep(100);
    }
  }

  /**
   * One admin call, with the damage ledger kept: a fault counts as done when it succeeded or its
   * outcome is unknown (a timeout: it may have happened); a definite refusal (4xx, 501) did nothing.
   * An undo clears it only when it succeeded.
   */
  private async performTracked(
    id: string,
    action: Exclude<PlannedStep['action'], 'heal-all'>,
    node: string,
    peer?: string,
    behavior?: ByzantineBehavior,
  ): Promise<ActionOutcome> {
    const outcome = await perform(this.deps.admin(), action, node, peer, behavior);
    const d = damageOf(action, node, peer, behavior);
    const refused = outcome.status >= 400 && (outcome.status < 500 || outcome.status === 501);
    if (d?.adds && !refused) await this.deps.store.markDamage(id, d.kind, d.key, true);
    if (d && !d.adds && succeeded(outcome)) await this.deps.store.markDamage(id, d.kind, d.key, false);
    return outcome;
  }

  /**
   * Undoes everything the run did and everything the beacons show broken. A replica the supervisor
   * respawned starts with none of its old process's faults (and does not answer until it is up),
   * so nothing more is sent to it.
   */
  private async healAll(id: string): Promise<ActionOutcome[]> {
    const plan = healPlan(this.deps.cluster().replicas, await this.deps.store.damage(id), this.deps.protocol);
    const respawned = new Set<string>();
    const outcomes: ActionOutcome[] = [];
    for (const h of plan) {
      if (h.action !== 'storage-restart' && h.action !== 'revive' && respawned.has(h.node)) continue;
      const o = await this.performTracked(id, h.action, h.node, h.peer, h.action === 'byzantine' ? 'none' : undefined);
      if (h.action === 'revive' && succeeded(o) && (o.result as { respawned?: boolean } | undefined)?.respawned === true) respawned.add(h.node);
      outcomes.push(o);
    }
    return outcomes;
  }

  /** The run's end, due after its last step: waits for steps still due or running, then heals and closes. */
  private async end(id: string): Promise<void> {
    const meta = await this.deps.store.meta(id);
    if (meta === null) return;
    await this.settled(id, async () => (await this.deps.store.state(id)) === 'running', true);
    if ((await this.deps.store.transition(id, ['running'], 'healing')) === null) return; // cancelled meanwhile: the cancel closes it
    await this.deps.store.cancelPending(id, 'the run ended before this step ran (it was late)');
    await this.close(meta, 'done');
  }

  /** Waits (settleWaitMs at most) until no step runs, nor (`pendingToo`) is still due, while `go` holds. */
  private async settled(id: string, go: () => boolean | Promise<boolean>, pendingToo = false): Promise<void> {
    const deadline = this.now() + this.settleWaitMs;
    while (this.now() < deadline && (await go())) {
      const statuses = await this.deps.store.statuses(id);
      if (!statuses.some((s) => s === 'running' || (pendingToo && s === 'pending'))) return;
      await sleep(100);
    }
  }

  private async close(meta: RunMeta, outcome: 'done' | 'cancelled'): Promise<void> {
    const heal = await this.healAll(meta.id);
    const view = (await this.deps.store.view(meta.id))!;
    const summary: RunSummary = {
      steps: view.steps.length,
      done: view.steps.filter((s) => s.status === 'done').length,
      failed: view.steps.filter((s) => s.status === 'failed').length,
      cancelled: view.steps.filter((s) => s.status === 'cancelled').length,
      healFailed: heal.filter((o) => !succeeded(o)).length,
    };
    // A heal that failed leaves damage behind: the run says so rather than "done".
    const state = outcome === 'cancelled' ? 'cancelled' : summary.healFailed > 0 ? 'failed' : 'done';
    await this.deps.store.end(meta.id, state, heal, summary, this.now());
    await this.deps.store.releaseSlot(meta.id);
    const healed =
      heal.length === 0 ? 'nothing to heal' : `healed (${heal.map((o) => `${o.action} ${o.node}${o.peer ? `-${o.peer}` : ''}: ${o.status}`).join(', ')})`;
    this.event(
      meta,
      `scenario ${meta.scenario} ${state}: ${summary.done}/${summary.steps} steps done, ${summary.failed} failed, ${summary.cancelled} cancelled; ${healed}`,
      {
        state,
        status: state,
        summary,
        heal: heal.map(({ action, node, peer, status }) => ({ action, node, ...(peer && { peer }), status })),
      },
    );
  }

  private event(meta: RunMeta, text: string, data: Record<string, unknown>, node?: string): void {
    this.deps.timeline({
      kind: 'scenario',
      source: 'scenario',
      text,
      ...(node !== undefined && { node }),
      data: { run: meta.id, scenario: meta.scenario, ...data },
    });
  }
}
