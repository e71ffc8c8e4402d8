import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutantsOf, type MutantName } from '@app/consensus/mutants';
import { HelpRequested, UsageError } from '../cli';
import { parseArgs } from './options';
import { sampleOf, selectMutants } from './select';
import { huntInSim } from './sim-hunt';
import { verdictLine } from './cli';

const CORE = join(__dirname, '../../libs/consensus/src');

/** The cores' sources (not specs, not the simulator, not the registry itself). */
function coreSources(): string {
  let text = '';
  for (const dir of ['raft', 'pbft']) {
    for (const f of readdirSync(join(CORE, dir))) if (f.endsWith('.ts') && !f.endsWith('.spec.ts')) text += readFileSync(join(CORE, dir, f), 'utf8');
  }
  return text;
}

/**
 * CI's sample of `npm run mutants`: mutants the simulator kills within a few seeds, a spread over
 * both cores' areas. The full run (every mutant, simulator and unit specs) is in docs/results.md;
 * the mutants killed by unit specs are checked in CI by those specs themselves (each runs its
 * scenario once more with its mutant on: raft/rules.spec.ts, pbft/rules.spec.ts...).
 */
const CI_SAMPLE: MutantName[] = [
  'raft.term.accept-stale',
  'raft.vote.grant-twice',
  'raft.append.skip-consistency-check',
  'raft.log.keep-conflicting-suffix',
  'raft.read-index.skip-own-term-commit',
  'pbft.execute.skip-order',
  'pbft.committed.skip-certificate-check',
  'pbft.log.keep-votes-across-views',
  'pbft.view-change.drop-prepared-set',
  'pbft.request.skip-timestamp-check',
];
const SEEDS = 40;

describe('npm run mutants', () => {
  it('every mutant of the catalogue has a switch point in its core', () => {
    const src = coreSources();
    const unswitched = [...mutantsOf('raft'), ...mutantsOf('pbft')].filter((m) => !src.includes(`'${m}'`));
    expect(unswitched).toEqual([]);
  });

  it.each(CI_SAMPLE)(`the simulator kills %s within ${SEEDS} seeds`, (mutant) => {
    const protocol = mutant.startsWith('raft.') ? 'raft' : 'pbft';
    const hunt = huntInSim(protocol, mutant, 1, SEEDS);
    expect(hunt.kill).not.toBeNull();
    // A real invariant, not a crash of the simulator.
    expect(hunt.kill!.violation).not.toMatch(/^exception/);
  });

  it('reads its command line', () => {
    expect(parseArgs([])).toEqual({ protocols: ['raft', 'pbft'], seeds: 200, from: 1, only: null, sample: null, skipUnit: false });
    expect(parseArgs(['--protocol', 'pbft', '--seeds=20', '--sample', '4', '--skip-unit'])).toMatchObject({
      protocols: ['pbft'],
      seeds: 20,
      sample: 4,
      skipUnit: true,
    });
    expect(parseArgs(['--only', 'raft.quorum.half, raft.vote.forget']).only).toEqual(['raft.quorum.half', 'raft.vote.forget']);
    expect(() => parseArgs(['--only', 'raft.no.such'])).toThrow(/unknown mutant raft.no.such/);
    expect(() => parseArgs(['--protocol', 'paxos'])).toThrow(UsageError);
    expect(() => parseArgs(['--help'])).toThrow(HelpRequested);
  });

  it('samples deterministically, spread over the catalogue', () => {
    const all = mutantsOf('pbft');
    const s = sampleOf(all, 5);
    expect(s).toHaveLength(5);
    expect(new Set(s).size).toBe(5);
    expect(s[0]).toBe(all[0]);
    expect(sampleOf(all, 5)).toEqual(s);
    expect(selectMutants('pbft', null, 100)).toEqual(all);
    expect(selectMutants('raft', ['raft.vote.forget', 'pbft.quorum.weak'], null)).toEqual(['raft.vote.forget']);
  });

  it('prints one line per verdict, with the replay command for a simulator kill', () => {
    expect(verdictLine({ mutant: 'raft.vote.forget', killed: true, by: 'sim', seed: 22, violation: 'election-safety: two leaders' }, 'raft', 1.04)).toBe(
      'killed   raft.vote.forget by sim seed 22 (1.0 s): election-safety: two leaders\n         replay: npm run sim -- --protocol raft --seed 22 --canary raft.vote.forget',
    );
    expect(verdictLine({ mutant: 'raft.vote.forget', killed: true, by: 'unit', test: 'node.spec.ts › x' }, 'raft', 2)).toBe(
      'killed   raft.vote.forget by unit test (2.0 s): node.spec.ts › x',
    );
    expect(verdictLine({ mutant: 'raft.vote.forget', killed: false }, 'raft', 3)).toMatch(/^SURVIVED raft.vote.forget \(3.0 s\): leave votedFor out/);
  });
});
