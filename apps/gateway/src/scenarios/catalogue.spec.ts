import { BYZANTINE_BEHAVIORS } from '@app/wire';
import { SCENARIOS } from './catalogue';
import { describeScheduled, planRun } from './plan';

describe('the scenario catalogue', () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s: every $name is remembered by an earlier step, every field fits its action', (_name, s) => {
    const { steps } = planRun(s, 1, 5);
    const known = new Set<string>();
    for (const step of steps) {
      for (const ref of [step.target, step.peer]) if (ref?.startsWith('$')) expect(known).toContain(ref.slice(1));
      if (step.remember) known.add(step.remember);
      if (step.rememberPeers) known.add(step.rememberPeers);
      if (step.action === 'byzantine') expect(BYZANTINE_BEHAVIORS).toContain(step.behavior);
      if (step.action === 'cut-link' || step.action === 'heal-link') expect(step.peer).toBeDefined();
      if (step.action !== 'heal-all') expect(step.target).toBeDefined();
    }
    expect(s.protocols.length).toBeGreaterThan(0);
    expect(s.name).toMatch(/^[a-z0-9-]+$/);
  });

  it('byzantine scenarios are PBFT only; storage scenarios need the supervisor', () => {
    for (const s of SCENARIOS) {
      if (s.steps.some((st) => st.action === 'byzantine')) expect(s.protocols).toEqual(['pbft']);
      if (s.steps.some((st) => st.action.startsWith('storage-') || st.action === 'hard-kill')) expect(s.requires).toContain('supervisor');
    }
  });

  it('kill-leader: six kills 10 s apart, each revived 5 s later, over one minute; speed divides it all', () => {
    const s = SCENARIOS.find((x) => x.name === 'kill-leader')!;
    const { steps, end } = planRun(s, 1, 3);
    expect(steps.map((st) => [st.at, st.action, st.target])).toEqual([
      [0, 'kill', 'leader'],
      [5000, 'revive', '$victim'],
      [10000, 'kill', 'leader'],
      [15000, 'revive', '$victim'],
      [20000, 'kill', 'leader'],
      [25000, 'revive', '$victim'],
      [30000, 'kill', 'leader'],
      [35000, 'revive', '$victim'],
      [40000, 'kill', 'leader'],
      [45000, 'revive', '$victim'],
      [50000, 'kill', 'leader'],
      [55000, 'revive', '$victim'],
    ]);
    expect(steps.map((st) => st.index)).toEqual(steps.map((_, i) => i));
    // Each revive reads the victim of its own kill (the one just before it), not the latest remembered.
    expect(steps.filter((st) => st.action === 'revive').map((st) => st.reads)).toEqual([0, 2, 4, 6, 8, 10].map((i) => ({ victim: i })));
    expect(steps.filter((st) => st.action === 'kill').every((st) => st.reads === undefined)).toBe(true);
    expect(end).toBe(60_000);
    const fast = planRun(s, 10, 3);
    expect(fast.steps.map((st) => st.at)).toEqual(steps.map((st) => st.at / 10));
    expect(fast.end).toBe(6000);
  });

  it('flap-follower and partition-leader: every $name read binds to the one step that wrote it', () => {
    const flap = planRun(
      SCENARIOS.find((x) => x.name === 'flap-follower')!,
      1,
      3,
    ).steps;
    expect(flap.slice(1).map((st) => st.reads)).toEqual(flap.slice(1).map(() => ({ flapper: 0 })));
    const part = planRun(
      SCENARIOS.find((x) => x.name === 'partition-leader')!,
      1,
      5,
    ).steps;
    expect(part[1].reads).toEqual({ leader: 0, cut: 0 });
  });

  it('rolling-restart: once per member, `each` takes the k-th', () => {
    const s = SCENARIOS.find((x) => x.name === 'rolling-restart')!;
    const { steps, end } = planRun(s, 1, 4);
    expect(steps.filter((st) => st.action === 'kill').map((st) => [st.at, st.repetition])).toEqual([
      [0, 0],
      [8000, 1],
      [16000, 2],
      [24000, 3],
    ]);
    expect(end).toBe(24_000 + 4_000 + 4_000);
  });

  it('steps read as sentences', () => {
    const s = SCENARIOS.find((x) => x.name === 'kill-leader')!;
    expect(s.steps.map(describeScheduled)).toEqual(['at 0 s, every 10 s ×6: kill the leader (as $victim)', 'at 5 s, every 10 s ×6: revive $victim']);
    const p = SCENARIOS.find((x) => x.name === 'partition-leader')!;
    expect(describeScheduled(p.steps[0])).toBe('at 0 s: cut the links between the leader and half of the others (as $leader, peers as $cut)');
  });
});
