import { withMutants, type PbftMutant } from '../../mutants';
import { signingPayload } from '../codec';
import type { PbftMessage, ReplicaId } from '../types';
import type { PbftHarness } from './harness';

/**
 * `body` signed with `signer`'s key: a Byzantine replica's own message when `signer` is its
 * `from`, a forgery when it is not (another member's key cannot sign as `from`).
 */
export function signedAs<M extends PbftMessage>(h: PbftHarness, signer: ReplicaId, body: Omit<M, 'sig'>): M {
  return { ...body, sig: h.keyring.cryptoFor(signer).sign(signingPayload(body as M)) } as M;
}

/** Signed by its own `from`. */
export function signed<M extends PbftMessage>(h: PbftHarness, body: Omit<M, 'sig'>): M {
  return signedAs<M>(h, body.from, body);
}

/**
 * Runs `scenario` as is, where the rule must hold, and with the rule's mutant on (mutants.ts),
 * where it must not: the test is then known to kill that mutant (`npm run mutants`), in CI too.
 */
export function killsMutant<T>(mutant: PbftMutant, scenario: () => T, holds: (outcome: T) => void, broken: (outcome: T) => void): void {
  holds(scenario());
  broken(withMutants([mutant], scenario));
}
