/**
 * Mutation testing (issue 10), after etcd's gofail failpoints: every safety and validation rule of
 * the two cores has a name below, and the core asks at the rule whether it is switched off:
 *
 *   if (!mutant('raft.vote.skip-up-to-date-check') && !upToDate) refuse();
 *
 * A mutant is a deliberately broken core. `npm run mutants` (tools/mutants) switches each one on in
 * turn and runs the simulator and the unit tests against it: a rule whose removal nothing notices is
 * a rule nothing tests. Nothing is ever active in production. Activation comes from outside the
 * core (the runner, a test, jest's setup reading SYNOD_MUTANT): libs/consensus reads no environment.
 *
 * Names are `protocol.area.what-the-mutant-does`; the descriptions say what the broken core does.
 */
export const RAFT_MUTANTS = Object.freeze({
  'raft.step.skip-member-check': 'take messages from nodes outside the configuration',
  'raft.term.skip-ceiling': 'adopt terms above MAX_TERM and campaign past it without reporting (the silent stall)',
  'raft.term.accept-stale': 'act on a message of an older term instead of answering it with the current term (Figure 2)',
  'raft.vote.skip-lease': "check-quorum's lease off: a follower that hears from a live leader still answers higher-term candidates (§4.2.3)",
  'raft.vote.skip-up-to-date-check': 'grant votes without the log up-to-date check (§5.4.1)',
  'raft.vote.grant-twice': 'grant a second vote in the same term (one vote per term, Figure 2)',
  'raft.vote.forget': 'leave votedFor out of the hard state, so a restart forgets the vote',
  'raft.vote.count-non-voter': "count a learner's vote",
  'raft.vote.term-resets-timer': "a candidate's higher term alone restarts a follower's election timer (Figure 2 restarts it on granting a vote)",
  'raft.vote.joiner-votes': 'let a server that knows no configuration yet (joining, or a wiped machine) grant votes',
  'raft.conf.allow-retired-id': 'add a removed id again (a wiped machine answering for the server that had it)',
  'raft.pre-vote.accept-stale-grant': 'count a pre-vote grant of an older round (§9.6)',
  'raft.campaign.allow-learner': 'let a learner campaign (on its election timeout or a TimeoutNow)',
  'raft.commit.previous-term-by-count': 'commit an entry of an earlier term by counting replicas (Figure 8, §5.4.2)',
  'raft.commit.count-learners': "count learners' match indexes towards the commit quorum",
  'raft.conf.many-voters-at-once': 'take a membership change that moves two voters or more at once (without joint consensus, §4.1)',
  'raft.conf.allow-two-in-flight': 'propose a membership change while an earlier one is uncommitted (§4.1)',
  'raft.conf.skip-own-term-commit': "propose a membership change before committing an entry of the leader's term (the 2015 single-server bug)",
  'raft.conf.removed-leader-counts-itself': 'a leader being removed counts its own log towards commit (§4.2.2)',
  'raft.append.skip-consistency-check': 'append without the prevLogIndex/prevLogTerm consistency check (§5.3)',
  'raft.append.commit-past-last-new': 'follower commits up to leaderCommit, not min(leaderCommit, last new entry) (Figure 2)',
  'raft.append.accept-stale-rejection': "take a late refusal of prevLogIndex = matchIndex (etcd's `<=` read as `<`): matchIndex goes back",
  'raft.log.keep-conflicting-suffix': 'overwrite conflicting entries in place, keeping what follows them (Figure 2: delete it)',
  'raft.log.stable-after-replace': 'mark entries persisted although they were replaced while the Ready was being persisted',
  'raft.snapshot.install-stale': 'install a snapshot at or below the commit index (rolls the log back)',
  'raft.snapshot.discard-matching-log': "on InstallSnapshot, drop the log even when it holds the snapshot's last entry (and acknowledged entries after it)",
  'raft.read-index.skip-own-term-commit': 'serve ReadIndex before the new leader committed an entry of its term (§6.4)',
  'raft.read-index.skip-confirmation': 'serve ReadIndex without a quorum confirming leadership (§6.4)',
  'raft.read-index.ack-non-voter': "count a learner's heartbeat answer as a ReadIndex confirmation",
  'raft.read-index.keep-reads-on-step-down': 'keep pending reads when leadership is lost instead of failing them',
  'raft.read-index.follower-serves-own-commit': 'a follower serves a linearizable read at its own commitIndex instead of asking its leader (§6.4.1)',
  'raft.read-index.follower-trusts-any-answer': 'a follower takes a read index answered by a leader it no longer follows, or in another term',
  'raft.check-quorum.skip-step-down': 'a leader cut off from a majority stays leader (§6.2)',
  'raft.quorum.half': 'half the voters (n/2, rounded down) count as a majority',
  'raft.ready.send-all-before-persist': "send every message of a Ready before it is durable (votes and acknowledgements too), not only a leader's replication",
} as const);

export const PBFT_MUTANTS = Object.freeze({
  'pbft.message.skip-well-formed': 'take messages and requests without the shape checks (validate.ts)',
  'pbft.view.skip-ceiling': 'take views above MAX_VIEW and change view past it without reporting (the silent stall)',
  'pbft.request.skip-signature': "take client requests without checking the client's signature",
  'pbft.preprepare.skip-signature': 'take PRE-PREPAREs without checking the signature',
  'pbft.prepare.skip-signature': 'take PREPAREs without checking the signature',
  'pbft.commit.skip-signature': 'take COMMITs without checking the signature',
  'pbft.checkpoint.skip-signature': 'take CHECKPOINTs without checking the signature',
  'pbft.view-change.skip-signature': 'take VIEW-CHANGEs without checking the signature',
  'pbft.new-view.skip-signature': 'take NEW-VIEWs without checking the signature',
  'pbft.auxiliary.skip-signature': 'take Forward, Status, FetchState, State, FetchCommitted and Committed without checking the signature',
  'pbft.preprepare.skip-view-check': 'take a PRE-PREPARE of another view, or while changing view',
  'pbft.preprepare.skip-primary-check': 'take a PRE-PREPARE from a backup',
  'pbft.preprepare.skip-digest-check': "take a PRE-PREPARE whose digest is not its batch's",
  'pbft.preprepare.accept-conflicting': 'take a second PRE-PREPARE for the same view and sequence number with another digest',
  'pbft.preprepare.accept-executed-request': 'prepare a PRE-PREPARE that carries a request already executed (a faulty primary)',
  'pbft.request.skip-timestamp-check': "execute a request whose client's timestamp was already executed (C&L §4.1)",
  'pbft.watermark.skip': 'take PRE-PREPAREs, PREPAREs and COMMITs outside the water marks (h, h+L]',
  'pbft.vote.skip-view-check': 'count PREPAREs and COMMITs of another view',
  'pbft.vote.count-mismatched-digest': 'count PREPAREs and COMMITs whatever digest they carry',
  'pbft.prepare.count-primary': "count the primary's PREPARE towards the 2f (the pre-prepare is its vote)",
  'pbft.quorum.weak': 'the old toy quorum: more than n/3 prepares or commits, the primary included',
  'pbft.execute.skip-order': 'execute a batch as soon as it commits, not in sequence-number order',
  'pbft.checkpoint.skip-digest-match': 'a checkpoint is stable on 2f+1 CHECKPOINTs whatever their digests',
  'pbft.checkpoint.skip-divergence-repair': 'a replica whose state digest differs from the stable checkpoint keeps running on it (no state transfer)',
  'pbft.certificate.skip-signatures': 'take certificates (prepared, commit, checkpoint proofs) without checking their signatures',
  'pbft.certificate.count-duplicates': "count a sender's every entry in a certificate, not the sender once",
  'pbft.view-change.skip-checkpoint-proof': 'take a VIEW-CHANGE whose checkpoint proof C does not prove its stable checkpoint',
  'pbft.view-change.skip-prepared-proof': 'take a VIEW-CHANGE whose P set holds invalid prepared certificates',
  'pbft.view-change.drop-prepared-set': 'send VIEW-CHANGEs with an empty P set',
  'pbft.view-change.join-on-one': 'join a higher view on one VIEW-CHANGE, not f+1',
  'pbft.new-view.skip-primary-check': 'take a NEW-VIEW from a replica that is not the primary of its view',
  'pbft.new-view.skip-quorum': 'take a NEW-VIEW without 2f+1 VIEW-CHANGEs for its view from distinct replicas',
  'pbft.new-view.skip-view-change-signatures': "take a NEW-VIEW's VIEW-CHANGEs without checking their signatures",
  'pbft.new-view.skip-recompute': "take the new primary's pre-prepares (O) without recomputing them from V",
  'pbft.state-transfer.skip-proof-check': 'install a transferred state without checking its stable checkpoint proof',
  'pbft.state-transfer.skip-digest-check': 'install a transferred state without checking that it reproduces the certified digest',
  'pbft.state-transfer.accept-stale': 'install a transferred state older than what this replica executed or knows stable',
  'pbft.committed.skip-certificate-check': 'execute fetched committed batches without checking their commit certificates',
  'pbft.log.keep-votes-across-views': "a new view keeps the previous view's votes for a sequence number",
  'pbft.reconfiguration.apply-on-execution': 'a reconfiguration takes over as soon as it executes, not once the checkpoint at its boundary is stable',
  'pbft.reconfiguration.keep-old-quorum': 'after a reconfiguration, keep the quorum sizes (f) of the configuration in force before it',
} as const);

export type RaftMutant = keyof typeof RAFT_MUTANTS;
export type PbftMutant = keyof typeof PBFT_MUTANTS;
export type MutantName = RaftMutant | PbftMutant;
export type MutantProtocol = 'raft' | 'pbft';

const CATALOGUE: Readonly<Record<string, string>> = Object.freeze({ ...RAFT_MUTANTS, ...PBFT_MUTANTS });

/** Every mutant of one protocol, in catalogue order. */
export function mutantsOf(protocol: MutantProtocol): MutantName[] {
  return Object.keys(protocol === 'raft' ? RAFT_MUTANTS : PBFT_MUTANTS) as MutantName[];
}

export function isMutantName(name: string): name is MutantName {
  return Object.prototype.hasOwnProperty.call(CATALOGUE, name);
}

export function describeMutant(name: MutantName): string {
  return CATALOGUE[name];
}

// The switch. `anyActive` is read first so that a core without mutants pays one boolean test.
const active = new Set<MutantName>();
let anyActive = false;

/** Is the rule `name` switched off? (Called by the cores at each rule; false in production.) */
export function mutant(name: MutantName): boolean {
  return anyActive && active.has(name);
}

export function enableMutant(name: string): void {
  if (!isMutantName(name)) throw new Error(`unknown mutant "${name}"; known: ${Object.keys(CATALOGUE).join(', ')}`);
  active.add(name);
  anyActive = true;
}

export function disableAllMutants(): void {
  active.clear();
  anyActive = false;
}

export function activeMutants(): MutantName[] {
  return [...active];
}

/** Runs `fn` with `names` switched on as well, then puts back exactly what was active before. */
export function withMutants<T>(names: readonly string[], fn: () => T): T {
  if (names.length === 0) return fn();
  const before = activeMutants();
  for (const n of names) enableMutant(n);
  try {
    return fn();
  } finally {
    disableAllMutants();
    for (const n of before) enableMutant(n);
  }
}

/**
 * The mutants a core switches on for itself only, from its config's `faults` (the per-node
 * canaries of the unit specs, named by their old flags): each flag is one mutant of the catalogue.
 */
export function localMutants<F extends object>(faults: F | undefined, flags: { readonly [K in keyof F]-?: MutantName }): ReadonlySet<MutantName> | null {
  if (faults === undefined) return null;
  const on = new Set<MutantName>();
  for (const k of Object.keys(faults) as (keyof F)[]) if (faults[k]) on.add(flags[k]);
  return on.size === 0 ? null : on;
}
