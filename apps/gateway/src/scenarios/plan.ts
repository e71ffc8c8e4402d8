import type { PlannedStep, Scenario, ScenarioStep } from './scenario';

export const MIN_SPEED = 1;
export const MAX_SPEED = 20;

/** What a step does, for people: "kill the leader (as $victim)". */
export function describeStep(step: Pick<ScenarioStep, 'action' | 'target' | 'peer' | 'behavior' | 'remember' | 'rememberPeers'>): string {
  const who = (t: string | undefined): string => {
    if (t === undefined) return '';
    if (t === 'leader' || t === 'primary' || t === 'follower' || t === 'backup') return `the ${t}`;
    if (t === 'each') return 'the next replica';
    if (t === 'all') return 'every replica';
    if (t === 'half') return 'half of the others';
    return t;
  };
  let text: string;
  switch (step.action) {
    case 'heal-all':
      text = 'heal everything (revive, heal, byzantine none, heal links)';
      break;
    case 'byzantine':
      text = step.behavior === 'none' ? `make ${who(step.target)} correct again` : `turn ${who(step.target)} Byzantine (${step.behavior})`;
      break;
    case 'cut-link':
      text = `cut the links between ${who(step.target)} and ${who(step.peer)}`;
      break;
    case 'heal-link':
      text = `heal the links between ${who(step.target)} and ${who(step.peer)}`;
      break;
    default:
      text = `${step.action} ${who(step.target)}`;
  }
  const names = [step.remember && `$${step.remember}`, step.rememberPeers && `peers as $${step.rememberPeers}`].filter(Boolean);
  return names.length > 0 ? `${text} (as ${names.join(', ')})` : text;
}

/** A step as the catalogue lists it: "at 5 s, every 10 s ×6: revive $victim". */
export function describeScheduled(step: ScenarioStep): string {
  const repeat = step.repeat ? `, every ${seconds(step.repeat.every)} ×${step.repeat.times === 'members' ? 'each member' : step.repeat.times}` : '';
  return `at ${seconds(step.at)}${repeat}: ${describeStep(step)}`;
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Scenario time (ms) to run time at `speed`. */
export function scaled(ms: number, speed: number): number {
  return Math.round(ms / speed);
}

/**
 * The run's steps: repeats expanded (`members` = one per member), offsets divided by `speed`, in
 * the order they are due (the catalogue's order breaks ties). `end`: when the heal-all is due.
 */
export function planRun(scenario: Scenario, speed: number, memberCount: number): { steps: PlannedStep[]; end: number } {
  const occurrences: Array<Omit<PlannedStep, 'index'> & { order: number }> = [];
  scenario.steps.forEach((step, order) => {
    const times = step.repeat === undefined ? 1 : step.repeat.times === 'members' ? memberCount : step.repeat.times;
    for (let k = 0; k < times; k++) {
      const at = step.at + k * (step.repeat?.every ?? 0);
      occurrences.push({
        at: scaled(at, speed),
        action: step.action,
        ...(step.target !== undefined && { target: step.target }),
        ...(step.peer !== undefined && { peer: step.peer }),
        ...(step.behavior !== undefined && { behavior: step.behavior }),
        ...(step.remember !== undefined && { remember: step.remember }),
        ...(step.rememberPeers !== undefined && { rememberPeers: step.rememberPeers }),
        repetition: k,
        text: describeStep(step),
        order,
      });
    }
  });
  occurrences.sort((a, b) => a.at - b.at || a.order - b.order || a.repetition - b.repetition);
  const steps: PlannedStep[] = occurrences.map(({ order: _order, ...s }, index) => ({ index, ...s }));
  // Each `$name` is bound now to the occurrence that writes it, not to whatever was remembered last
  // when the reader runs (a writer waiting for a leader would otherwise be overtaken).
  const writers = new Map<string, number>();
  for (const s of steps) {
    const reads: Record<string, number> = {};
    for (const ref of [s.target, s.peer]) {
      if (ref === undefined || !ref.startsWith('$')) continue;
      const w = writers.get(ref.slice(1));
      if (w !== undefined) reads[ref.slice(1)] = w;
    }
    if (Object.keys(reads).length > 0) s.reads = reads;
    if (s.remember !== undefined) writers.set(s.remember, s.index);
    if (s.rememberPeers !== undefined) writers.set(s.rememberPeers, s.index);
  }
  const last = Math.max(0, ...steps.map((s) => s.at));
  return { steps, end: last + scaled(scenario.tailMs, speed) };
}
