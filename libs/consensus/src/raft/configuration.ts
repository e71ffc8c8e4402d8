import type { Configuration, NodeId } from './types';

/**
 * Membership changes, one server at a time (dissertation §4.1), not joint consensus (§4.3).
 *
 * Why: every change Synod's admin API offers — add a learner, promote it, demote or remove one
 * member — moves at most one voter, and any two configurations that differ by one voter have
 * overlapping majorities, so no two leaders can be elected in one term across the old and the new
 * one. Joint consensus buys arbitrary changes in one step at the price of a second configuration
 * entry, two-quorum counting everywhere, and a state more to persist and recover; replacing a
 * machine is add-learner, promote, remove — three single steps — so nothing needs it. The rules
 * that make single-server changes safe:
 *  - a configuration takes effect on every server as soon as it is in its log (committed or not),
 *    and a truncated configuration entry gives the previous one back;
 *  - a leader proposes a change only when no earlier change is uncommitted ("at most one in
 *    flight"), and only once it has committed an entry of its own term — without this, a change of
 *    a deposed leader's term and one of the new leader's could both be uncommitted, and together
 *    differ by two voters (the bug found after the dissertation, raft-dev 2015);
 *  - voters differ by at most one between the old and the new configuration (checked here).
 */
export type ConfChangeType = 'add-learner' | 'promote' | 'demote' | 'remove';

export interface ConfChange {
  type: ConfChangeType;
  id: NodeId;
}

/** Why a change cannot be made (the admin API's 409 and 404). */
export type ConfChangeRefusal =
  | 'not-leader'
  | 'transferring'
  | 'change-in-flight'
  | 'leader-not-ready'
  | 'learner-behind'
  | 'unknown-member'
  | 'already-member'
  | 'retired-member'
  | 'not-a-learner'
  | 'not-a-voter'
  | 'last-voter'
  | 'too-many-voters-changed';

export type ConfChangeResult =
  { ok: true; index: number; term: number; configuration: Configuration } | { ok: false; reason: ConfChangeRefusal; leaderHint: NodeId | null };

/**
 * The configuration after `changes`, applied in order, or why one of them cannot apply.
 * `allowRetired`: the mutant that adds a removed id again (mutants.ts).
 */
export function changedConfiguration(conf: Configuration, changes: readonly ConfChange[], allowRetired = false): Configuration | ConfChangeRefusal {
  let voters = [...conf.voters];
  let learners = [...conf.learners];
  let retired = [...(conf.retired ?? [])];
  for (const { type, id } of changes) {
    const isVoter = voters.includes(id);
    const isLearner = learners.includes(id);
    switch (type) {
      case 'add-learner':
        if (isVoter || isLearner) return 'already-member';
        if (retired.includes(id) && !allowRetired) return 'retired-member';
        learners = [...learners, id];
        break;
      case 'promote':
        if (isVoter) return 'not-a-learner';
        if (!isLearner) return 'unknown-member';
        learners = learners.filter((x) => x !== id);
        voters = [...voters, id];
        break;
      case 'demote':
        if (isLearner) return 'not-a-voter';
        if (!isVoter) return 'unknown-member';
        if (voters.length === 1) return 'last-voter';
        voters = voters.filter((x) => x !== id);
        learners = [...learners, id];
        break;
      case 'remove':
        if (!isVoter && !isLearner) return 'unknown-member';
        if (isVoter && voters.length === 1) return 'last-voter';
        voters = voters.filter((x) => x !== id);
        learners = learners.filter((x) => x !== id);
        retired = [...retired, id];
        break;
    }
  }
  return retired.length > 0 ? { voters, learners, retired } : { voters, learners };
}

/** How many voters are in one configuration and not in the other (both ways). */
export function votersChanged(a: Configuration, b: Configuration): number {
  const inA = new Set(a.voters);
  const inB = new Set(b.voters);
  let n = 0;
  for (const v of inA) if (!inB.has(v)) n++;
  for (const v of inB) if (!inA.has(v)) n++;
  return n;
}

// A configuration entry's data: the whole new configuration (not the change), so that a server
// reading its log needs no earlier entry to know its membership.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfiguration(conf: Configuration): Uint8Array {
  const { voters, learners, retired } = conf;
  return encoder.encode(JSON.stringify(retired !== undefined && retired.length > 0 ? { voters, learners, retired } : { voters, learners }));
}

/** null for bytes that are not a configuration (a corrupt entry is skipped, deterministically). */
export function decodeConfiguration(data: Uint8Array | null): Configuration | null {
  if (data === null) return null;
  try {
    const v = JSON.parse(decoder.decode(data)) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const { voters, learners, retired } = v as Record<string, unknown>;
    const ids = (x: unknown): x is string[] => Array.isArray(x) && x.every((id) => typeof id === 'string' && id.length > 0);
    if (!ids(voters) || !ids(learners)) return null;
    if (retired === undefined) return { voters, learners };
    return ids(retired) ? { voters, learners, retired } : null;
  } catch {
    return null;
  }
}
