import { activeMutants, disableAllMutants, enableMutant, isMutantName, mutant, mutantsOf, PBFT_MUTANTS, RAFT_MUTANTS, withMutants } from './mutants';

describe('mutant registry', () => {
  afterEach(() => disableAllMutants());

  it('names every mutant after its protocol, with a one-line description', () => {
    for (const [protocol, catalogue] of [
      ['raft', RAFT_MUTANTS],
      ['pbft', PBFT_MUTANTS],
    ] as const) {
      expect(mutantsOf(protocol)).toEqual(Object.keys(catalogue));
      for (const [name, what] of Object.entries(catalogue)) {
        expect(name).toMatch(new RegExp(`^${protocol}\\.[a-z-]+\\.[a-z-]+$`));
        expect(what).not.toMatch(/\n/);
      }
    }
    expect(Object.isFrozen(RAFT_MUTANTS) && Object.isFrozen(PBFT_MUTANTS)).toBe(true);
  });

  it('switches nothing on by default (what production runs)', () => {
    expect(activeMutants()).toEqual([]);
    expect(mutant('raft.vote.skip-up-to-date-check')).toBe(false);
  });

  it('enables by name, refuses unknown names, and disables all at once', () => {
    enableMutant('pbft.watermark.skip');
    expect(mutant('pbft.watermark.skip')).toBe(true);
    expect(mutant('pbft.quorum.weak')).toBe(false);
    expect(() => enableMutant('pbft.no-such.rule')).toThrow(/unknown mutant "pbft.no-such.rule"/);
    expect(isMutantName('pbft.no-such.rule')).toBe(false);
    disableAllMutants();
    expect(mutant('pbft.watermark.skip')).toBe(false);
  });

  it('withMutants puts back exactly what was active, even when the body throws', () => {
    enableMutant('raft.quorum.half');
    expect(withMutants(['raft.vote.forget'], () => activeMutants().sort())).toEqual(['raft.quorum.half', 'raft.vote.forget']);
    expect(() =>
      withMutants(['raft.vote.forget'], () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(activeMutants()).toEqual(['raft.quorum.half']);
  });
});
