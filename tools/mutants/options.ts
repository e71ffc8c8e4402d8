import { isMutantName, type MutantName, type MutantProtocol } from '@app/consensus/mutants';
import { choiceFlag, intFlag, parseFlags, UsageError } from '../cli';

export interface MutantsOptions {
  protocols: MutantProtocol[];
  /** Simulator seeds tried per mutant (stops at the first violation). */
  seeds: number;
  from: number;
  /** Only these mutants (null: all of the protocols'). */
  only: MutantName[] | null;
  /** A deterministic subset of this many per protocol (null: all). */
  sample: number | null;
  skipUnit: boolean;
}

export const USAGE = `usage: npm run mutants -- [--protocol raft|pbft|all] [--seeds N] [--from K] [--only NAME,NAME] [--sample K] [--skip-unit]

  --protocol raft|pbft|all  whose mutants (default all)
  --seeds N                 simulator seeds tried per mutant, stopping at the first violation (default 200)
  --from K                  ... starting at seed K (default 1)
  --only NAME,NAME          just these mutants (see libs/consensus/src/mutants.ts)
  --sample K                a deterministic subset of K mutants per protocol (spread over the catalogue)
  --skip-unit               simulator only: no unit-test run for the mutants it did not kill
  -h, --help                this text

Each mutant switches one safety or validation rule of a core off. It is killed when a simulator seed
breaks an invariant with it (and holds without it), else when a unit test of its protocol fails with
it (SYNOD_MUTANT=<name> jest ...). Exit status: 0 when every mutant run was killed, 1 when one
survived, 2 on bad usage or when the unit tests fail without any mutant.`;

const FLAGS = ['protocol', 'seeds', 'from', 'only', 'sample'] as const;

export function parseArgs(argv: string[]): MutantsOptions {
  // The one switch (the shared parser takes options with values only).
  const skipUnit = argv.includes('--skip-unit');
  const v = parseFlags(
    argv.filter((a) => a !== '--skip-unit'),
    FLAGS,
  );
  const protocol = choiceFlag(v, 'protocol', ['raft', 'pbft', 'all'] as const, 'all');
  let only: MutantName[] | null = null;
  if (v.only !== undefined) {
    const names = v.only
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const unknown = names.filter((n) => !isMutantName(n));
    if (unknown.length > 0) throw new UsageError(`unknown mutant ${unknown.join(', ')} (see libs/consensus/src/mutants.ts)`);
    if (names.length === 0) throw new UsageError('--only needs at least one mutant name');
    only = names as MutantName[];
  }
  return {
    protocols: protocol === 'all' ? ['raft', 'pbft'] : [protocol],
    seeds: intFlag(v, 'seeds', 200, 0),
    from: intFlag(v, 'from', 1, 1),
    only,
    sample: v.sample === undefined ? null : intFlag(v, 'sample', 0, 1),
    skipUnit,
  };
}
