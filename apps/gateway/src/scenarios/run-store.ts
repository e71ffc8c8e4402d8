import type Redis from 'ioredis';
import type { ActionOutcome } from './actions';
import type { DamageKind } from './heal';
import type { PlannedStep } from './scenario';

/**
 * A run's state lives in Redis, one hash per run, so that every gateway process (GATEWAY_WORKERS)
 * answers GET for it and any of their BullMQ workers can run its next step:
 *   state            running | cancelling | healing | done | failed | cancelled
 *   meta             RunMeta (JSON)
 *   status:<i>       pending | running | done | failed | cancelled   (apart, for the atomic claim)
 *   step:<i>         StepRecord without status (JSON)
 *   var:<name>@<i>   the nodes step i remembered as $name (JSON array)
 *   damage:<kind>:<key>  what the run broke and has not undone (heal.ts)
 *   heal, summary, finishedAt   written once, at the end
 * One run at a time per cluster: `active` holds the running one's id.
 */

export type RunState = 'running' | 'cancelling' | 'healing' | 'done' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export interface RunMeta {
  id: string;
  scenario: string;
  title: string;
  protocol: 'raft' | 'pbft';
  speed: number;
  startedAt: number;
  /** When the closing heal-all is due (ms since the epoch). */
  endsAt: number;
  stepCount: number;
}

export interface StepRecord extends PlannedStep {
  status: StepStatus;
  startedAt?: number;
  finishedAt?: number;
  /** The target as resolved when the step ran. */
  nodes?: string[];
  outcomes?: ActionOutcome[];
  /** Why it did nothing (no leader, nothing remembered, run cancelled). */
  error?: string;
}

export interface RunSummary {
  steps: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Heal-all calls that failed: damage that may be left. */
  healFailed: number;
}

export interface RunView extends RunMeta {
  state: RunState;
  finishedAt: number | null;
  steps: StepRecord[];
  /** The closing heal-all's calls. */
  heal: ActionOutcome[];
  summary: RunSummary | null;
}

export const FINAL_STATES: readonly RunState[] = ['done', 'failed', 'cancelled'];

// Compare-and-set of the run's state: a finishing run and a cancel must not both heal and end it.
const CAS_STATE = `
local s = redis.call('HGET', KEYS[1], 'state')
for i = 2, #ARGV do if s == ARGV[i] then redis.call('HSET', KEYS[1], 'state', ARGV[1]) return s end end
return false`;
// A step acts only while the run runs, and only once: after this, a cancel sees it as running and waits for it.
const CLAIM_STEP = `
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'running')
return 1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const KEEP_AFTER_END_S = 24 * 3600;

export class RunStore {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    cluster: string,
  ) {
    this.base = `synod:${cluster}:scenarios`;
  }

  private key(id: string): string {
    return `${this.base}:run:${id}`;
  }

  private get activeKey(): string {
    return `${this.base}:active`;
  }

  /** Takes the cluster's one run slot for `id`; the holder's id when another run has it. */
  async claimSlot(id: string, ttlMs: number): Promise<string | null> {
    const ok = await this.redis.set(this.activeKey, id, 'PX', ttlMs, 'NX');
    if (ok === 'OK') return null;
    const holder = await this.redis.get(this.activeKey);
    // Released in between: try once more rather than refuse.
    if (holder === null)
      return (await this.redis.set(this.activeKey, id, 'PX', ttlMs, 'NX')) === 'OK' ? null : ((await this.redis.get(this.activeKey)) ?? 'unknown');
    return holder;
  }

  async releaseSlot(id: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.activeKey, id);
  }

  async create(meta: RunMeta, steps: PlannedStep[]): Promise<void> {
    const fields: Record<string, string> = { state: 'running', meta: JSON.stringify(meta) };
    for (const s of steps) {
      fields[`status:${s.index}`] = 'pending';
      fields[`step:${s.index}`] = JSON.stringify(s);
    }
    const ttl = Math.ceil((meta.endsAt - meta.startedAt) / 1000) + KEEP_AFTER_END_S;
    await this.redis.multi().hset(this.key(meta.id), fields).expire(this.key(meta.id), ttl).exec();
  }

  async meta(id: string): Promise<RunMeta | null> {
    const raw = await this.redis.hget(this.key(id), 'meta');
    return raw === null ? null : (JSON.parse(raw) as RunMeta);
  }

  async state(id: string): Promise<RunState | null> {
    return (await this.redis.hget(this.key(id), 'state')) as RunState | null;
  }

  /** Moves the run to `to` if it is in one of `from`; the state it was in, or null when it was in none. */
  async transition(id: string, from: RunState[], to: RunState): Promise<RunState | null> {
    return (await this.redis.eval(CAS_STATE, 1, this.key(id), to, ...from)) as RunState | null;
  }

  async claimStep(id: string, index: number): Promise<boolean> {
    return (await this.redis.eval(CLAIM_STEP, 1, this.key(id), `status:${index}`)) === 1;
  }

  async step(id: string, index: number): Promise<StepRecord | null> {
    const [raw, status] = await this.redis.hmget(this.key(id), `step:${index}`, `status:${index}`);
    return raw === null ? null : { ...(JSON.parse(raw) as PlannedStep), status: (status ?? 'pending') as StepStatus };
  }

  /** The step's outcome (its status last: a reader that sees it final finds the outcome written). */
  async settleStep(id: string, record: StepRecord): Promise<void> {
    const { status, ...rest } = record;
    await this.redis.multi().hset(this.key(id), `step:${record.index}`, JSON.stringify(rest)).hset(this.key(id), `status:${record.index}`, status).exec();
  }

  /** Marks every still-pending step cancelled; their indexes. */
  async cancelPending(id: string, reason: string): Promise<number[]> {
    const all = await this.redis.hgetall(this.key(id));
    const pending = Object.entries(all)
      .filter(([k, v]) => k.startsWith('status:') && v === 'pending')
      .map(([k]) => Number(k.slice('status:'.length)));
    for (const i of pending) {
      const step = await this.step(id, i);
      if (step !== null && step.status === 'pending') await this.settleStep(id, { ...step, status: 'cancelled', error: reason });
    }
    return pending;
  }

  async statuses(id: string): Promise<StepStatus[]> {
    const all = await this.redis.hgetall(this.key(id));
    return Object.entries(all)
      .filter(([k]) => k.startsWith('status:'))
      .map(([, v]) => v as StepStatus);
  }

  async stepStatus(id: string, index: number): Promise<StepStatus | null> {
    return (await this.redis.hget(this.key(id), `status:${index}`)) as StepStatus | null;
  }

  /** What the steps named in `reads` (PlannedStep.reads) remembered, by name. */
  async vars(id: string, reads: Record<string, number> | undefined): Promise<Record<string, string[]>> {
    const names = Object.entries(reads ?? {});
    if (names.length === 0) return {};
    const raw = await this.redis.hmget(this.key(id), ...names.map(([name, index]) => `var:${name}@${index}`));
    const vars: Record<string, string[]> = {};
    names.forEach(([name], i) => {
      if (raw[i] !== null) vars[name] = JSON.parse(raw[i]!) as string[];
    });
    return vars;
  }

  /** Step `index` remembers `nodes` as `$name` (for the steps whose `reads` name it). */
  async remember(id: string, name: string, index: number, nodes: string[]): Promise<void> {
    await this.redis.hset(this.key(id), `var:${name}@${index}`, JSON.stringify(nodes));
  }

  async markDamage(id: string, kind: DamageKind, key: string, adds: boolean): Promise<void> {
    const field = `damage:${kind}:${key}`;
    if (adds) await this.redis.hset(this.key(id), field, '1');
    else await this.redis.hdel(this.key(id), field);
  }

  async damage(id: string): Promise<Map<DamageKind, Set<string>>> {
    const all = await this.redis.hgetall(this.key(id));
    const out = new Map<DamageKind, Set<string>>();
    for (const k of Object.keys(all)) {
      const m = /^damage:([a-z]+):(.+)$/.exec(k);
      if (!m) continue;
      const kind = m[1] as DamageKind;
      if (!out.has(kind)) out.set(kind, new Set());
      out.get(kind)!.add(m[2]);
    }
    return out;
  }

  async end(id: string, state: RunState, heal: ActionOutcome[], summary: RunSummary, at: number): Promise<void> {
    await this.redis.hset(this.key(id), { heal: JSON.stringify(heal), summary: JSON.stringify(summary), finishedAt: String(at), state });
  }

  async view(id: string): Promise<RunView | null> {
    const all = await this.redis.hgetall(this.key(id));
    if (all.meta === undefined) return null;
    const meta = JSON.parse(all.meta) as RunMeta;
    const steps: StepRecord[] = [];
    for (let i = 0; i < meta.stepCount; i++) {
      const raw = all[`step:${i}`];
      if (raw !== undefined) steps.push({ ...(JSON.parse(raw) as PlannedStep), status: (all[`status:${i}`] ?? 'pending') as StepStatus });
    }
    return {
      ...meta,
      state: all.state as RunState,
      finishedAt: all.finishedAt !== undefined ? Number(all.finishedAt) : null,
      steps,
      heal: all.heal !== undefined ? (JSON.parse(all.heal) as ActionOutcome[]) : [],
      summary: all.summary !== undefined ? (JSON.parse(all.summary) as RunSummary) : null,
    };
  }
}
