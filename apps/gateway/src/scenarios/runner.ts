import { randomUUID } from 'node:crypto';
import type { ByzantineBehavior } from '@app/wire';
import { ApiError } from '../http/api-error';
import type { LabEventInput } from '../lab/lab-events';
import { perform, succeeded, type ActionOutcome, type ScenarioAdmin } from './actions';
import { SCENARIOS } from './catalogue';
import { damageOf, healPlan, type ReplicaState } from './heal';
import { planRun, seconds } from './plan';
import { FINAL_STATES, type RunMeta, type RunStore, type RunSummary, type RunView, type StepRecord } from './run-store';
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
  /** How long a step reading `$name` waits for the step that remembers it to settle before failing. */
  varWaitMs?: number;
  /** How long a DELETE waits for the cancelled run's heal before answering with the run as it is. */
  cancelWaitMs?: number;
}

/** After the end is due, the slot is held this much longer at most (a gateway that died mid-run frees it). */
const SLOT_GRACE_MS = 120_000;

/** Heal-alls after a cancel or an end at most: another only when a step was still acting during the last. */
const HEAL_ROUNDS = 3;

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
  private readonly varWaitMs: number;
  private readonly cancelWaitMs: number;

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.leaderWaitMs = deps.leaderWaitMs ?? 5_000;
    this.settleWaitMs = deps.settleWaitMs ?? 20_000;
    this.varWaitMs = deps.varWaitMs ?? 15_000;
    this.cancelWaitMs = deps.cancelWaitMs ?? 25_000;
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

  /**
   * Moves the run to `cancelling`, removes what is still due and queues its end now: the end job
   * (any gateway process's worker) waits for a step under way, heals everything and ends the run
   * `cancelled`. The answer waits for that (cancelWaitMs at most), so it says cancelled and healed
   * when it can; otherwise it shows the run still `cancelling`. Cancelling a cancelling run queues
   * its end again (a process that died mid-cancel leaves it to the next DELETE) and answers the same.
   */
  async cancel(id: string): Promise<RunView> {
    const meta = await this.deps.store.meta(id);
    if (meta === null) throw ApiError.notFound(`no scenario run ${JSON.stringify(id)}`, { run: id });
    const was = await this.deps.store.transition(id, ['running'], 'cancelling');
    if (was === null) {
      const state = await this.deps.store.state(id);
      if (state === 'cancelled') return this.view(id); // cancelled twice: one effect
      if (state !== 'cancelling')
        throw new ApiError(409, {
          error: `run ${id} is ${state === 'healing' ? 'ending (healing the cluster) already' : `over (${state})`}; nothing to cancel`,
          run: id,
          state,
        });
    } else await this.dropPending(id);
    await this.endNow(id);
    const deadline = this.now() + this.cancelWaitMs;
    while (this.now() < deadline && !FINAL_STATES.includes((await this.deps.store.state(id)) ?? 'cancelled')) await sleep(100);
    return this.view(id);
  }

  /** A cancelled run's steps not yet due: their jobs removed, each marked cancelled. */
  private async dropPending(id: string): Promise<void> {
    const view = await this.deps.store.view(id);
    for (const s of view?.steps ?? []) if (s.status === 'pending') await this.deps.queue.remove(stepJobId(id, s.index)).catch(() => 0);
    await this.deps.store.cancelPending(id, 'the run was cancelled before this step was due');
  }

  /**
   * Queues the run's end to run now, under the end's own job id so that there is one at most: the
   * end still due is replaced; one being processed cannot be removed (it is locked) and the new one
   * is then a duplicate BullMQ ignores, which is right, since that end sees the cancel and heals.
   */
  private async endNow(id: string): Promise<void> {
    await this.deps.queue.remove(endJobId(id)).catch(() => 0);
    await this.deps.queue.addBulk([{ name: 'end', data: { kind: 'end', run: id }, opts: { ...SCENARIO_JOB_OPTIONS, jobId: endJobId(id), delay: 0 } }]);
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
        state: record.status === 'done' || record.status === 'cancelled' ? record.status : 'failed',
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
    const waited = await this.writersSettled(meta.id, step);
    if (waited !== null) return { ...step, ...waited, outcomes: [] };
    const vars = await this.deps.store.vars(meta.id, step.reads);
    const resolved = await this.resolveWaiting(meta.id, step, vars);
    if ('cancelled' in resolved) return { ...step, status: 'cancelled', error: resolved.cancelled, outcomes: [] };
    if ('error' in resolved) return { ...step, status: 'failed', error: resolved.error, outcomes: [] };
    const nodes = resolved.nodes;
    if (step.remember !== undefined) await this.deps.store.remember(meta.id, step.remember, step.index, nodes);
    const outcomes: ActionOutcome[] = [];
    let peersSeen: string[] = [];
    for (const node of nodes) {
      let peers: Array<string | undefined> = [undefined];
      if (step.action === 'cut-link' || step.action === 'heal-link') {
        const { picture } = this.deps.cluster();
        const r = resolvePeers(step.peer, node, picture, vars);
        if ('error' in r) return { ...step, status: 'failed', nodes, error: r.error, outcomes };
        peers = r.nodes;
        peersSeen = [...new Set([...peersSeen, ...r.nodes])];
      }
      for (const peer of peers) {
        // A run ended (or cancelled) meanwhile is being healed: this step does no more.
        if (outcomes.length > 0 && !(await this.running(meta.id)))
          return { ...step, status: 'cancelled', nodes, error: 'the run ended while this step was under way; the rest was not done', outcomes };
        outcomes.push(await this.performTracked(meta.id, step.action, node, peer, step.behavior));
      }
    }
    if (step.rememberPeers !== undefined) await this.deps.store.remember(meta.id, step.rememberPeers, step.index, peersSeen);
    if (outcomes.length === 0) return { ...step, status: 'failed', nodes, error: 'nothing to act on (no peers)', outcomes };
    return { ...step, status: outcomes.every(succeeded) ? 'done' : 'failed', nodes, outcomes };
  }

  private async running(id: string): Promise<boolean> {
    return (await this.deps.store.state(id)) === 'running';
  }

  /**
   * A step reading `$name` acts on what the step that writes it (PlannedStep.reads) chose, so it
   * waits until that step has settled (varWaitMs at most); null when it may go on.
   */
  private async writersSettled(id: string, step: PlannedStep): Promise<Pick<StepRecord, 'status' | 'error'> | null> {
    const reads = Object.entries(step.reads ?? {});
    const deadline = this.now() + this.varWaitMs;
    for (;;) {
      let waiting: [string, number] | undefined;
      for (const [name, index] of reads) {
        const status = await this.deps.store.stepStatus(id, index);
        if (status === 'pending' || status === 'running') waiting = [name, index];
      }
      if (waiting === undefined) return null;
      if (!(await this.running(id)))
        return { status: 'cancelled', error: `the run ended while this step waited for step ${waiting[1] + 1} (which remembers $${waiting[0]})` };
      if (this.now() >= deadline)
        return { status: 'failed', error: `step ${waiting[1] + 1}, which remembers $${waiting[0]}, had not finished after ${this.varWaitMs} ms` };
      await sleep(50);
    }
  }

  /** A target naming the leader waits while nobody leads (an election or view change under way), up to leaderWaitMs. */
  private async resolveWaiting(id: string, step: PlannedStep, vars: Record<string, string[]>): Promise<Resolved | { cancelled: string }> {
    const deadline = this.now() + this.leaderWaitMs;
    for (;;) {
      const r = resolveTarget(step.target, this.deps.cluster().picture, vars, step.repetition);
      if ('nodes' in r || !r.waitForLeader || this.now() >= deadline) {
        return 'error' in r && r.waitForLeader ? { error: `${r.error} (waited ${this.leaderWaitMs} ms)` } : r;
      }
      if (!(await this.running(id))) return { cancelled: `the run ended while this step waited for a leader (${r.error})` };
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

  /**
   * The run's end, due after its last step (or queued now by a cancel): waits for steps still due
   * or running, then heals and closes, `done` (or `failed`), or `cancelled` when it was cancelled.
   */
  private async end(id: string): Promise<void> {
    const meta = await this.deps.store.meta(id);
    if (meta === null) return;
    if (await this.running(id)) await this.settled(id, () => this.running(id), true);
    if ((await this.deps.store.transition(id, ['running'], 'healing')) !== null) {
      await this.deps.store.cancelPending(id, 'the run ended before this step ran (it was late)');
      await this.close(meta, 'done');
      return;
    }
    if ((await this.deps.store.state(id)) !== 'cancelling') return; // over already
    // Again, in case the cancel's process died between its transition and this.
    await this.dropPending(id);
    await this.settled(id, () => true);
    await this.close(meta, 'cancelled');
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

  /**
   * Heal-all, and again when a step was still under way as it began (settled() gave up on it): it
   * may have acted after this heal's calls. No step starts once the run has left `running`.
   */
  private async healUntilQuiet(id: string): Promise<{ all: ActionOutcome[]; last: ActionOutcome[] }> {
    const all: ActionOutcome[] = [];
    for (let round = 1; ; round++) {
      const acting = (await this.deps.store.statuses(id)).includes('running');
      const last = await this.healAll(id);
      all.push(...last);
      if (!acting || round === HEAL_ROUNDS) return { all, last };
      await this.settled(id, () => true);
    }
  }

  private async close(meta: RunMeta, outcome: 'done' | 'cancelled'): Promise<void> {
    const { all: heal, last } = await this.healUntilQuiet(meta.id);
    const view = (await this.deps.store.view(meta.id))!;
    const summary: RunSummary = {
      steps: view.steps.length,
      done: view.steps.filter((s) => s.status === 'done').length,
      failed: view.steps.filter((s) => s.status === 'failed').length,
      cancelled: view.steps.filter((s) => s.status === 'cancelled').length,
      // The last heal-all retried whatever an earlier one failed to undo (the ledger keeps it).
      healFailed: last.filter((o) => !succeeded(o)).length,
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
