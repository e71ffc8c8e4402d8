import { createHash } from 'node:crypto';
import { validCheckpointProof, type CertificateContext } from './certificates';
import { checkpointLedgerDigest } from '../ledger/block';
import { checkpointDigest } from './codec';
import { quorums } from './quorum';
import type { ConfigurationLink, PbftConfiguration, ReplicaId } from './types';

/**
 * PBFT reconfiguration (issue 13), in the spirit of BFT-SMaRt's: the replica set changes by an
 * ordered request, so every correct replica changes it at the same point of the one history.
 *
 * The request. An ordinary client request (pre-prepare, prepare, commit like any other) whose op
 * starts with RECONFIGURE_MARK. The core recognises it itself rather than asking the application:
 * the replica set decides the core's own quorums, so the decision must not depend on what an
 * application chooses to report back, and an application that has never heard of reconfiguration
 * (the counter app of the tests) cannot get it wrong. It is decided, at execution, by the replicated
 * state alone: it takes effect iff its client's signer is PbftConfig.admin (the request signature
 * was checked against that signer before any correct replica prepared it), the new set is valid
 * (n' = 3f'+1, f' >= 1, distinct ids) and no other change is pending. Otherwise it is refused with a
 * definite result, the same on every correct replica, and counted (status().reconfigurations).
 *
 * Where it takes effect. Executed at sequence number s, it names the first checkpoint boundary at or
 * after s, B = ceil(s/K)*K; the new configuration governs sequence numbers above B. The rules that
 * keep every sequence number under exactly one configuration (replica.ts applies them):
 *  1. A replica votes on (accepts pre-prepares for, prepares, commits, executes fetched certificates
 *     of) sequence number n only when it knows the configuration of n: it has executed the
 *     checkpoint boundary below n (floor((n-1)/K)*K), since any later change could only take effect
 *     after that boundary. Without an admin principal no change can ever happen and this gate is off.
 *  2. A replica in configuration C votes only on sequence numbers governed by C: up to B once a
 *     change is decided. The primary fills the interval up to B with null requests, so B is reached
 *     without client load, and orders nothing beyond it.
 *  3. The new configuration takes over at a replica when checkpoint B is stable there (2f+1
 *     CHECKPOINTs of the OLD configuration, which ran sequence numbers up to B) and the replica holds
 *     that state: its own (it executed B) or a certified state transfer at B or later. The
 *     configuration is part of the replicated state, in every checkpoint's digest and snapshot, so
 *     state transfer and restarts carry it.
 *  4. At that moment the replica drops what it knew of the old configuration's views (view-change
 *     votes, the NEW-VIEW) and starts a view change to view+1 in the new configuration. So no replica
 *     is ever active in a view of a configuration without a NEW-VIEW of that configuration: old
 *     NEW-VIEWs never vouch for new-configuration views. VIEW-CHANGEs and NEW-VIEWs are judged
 *     under the receiver's configuration; one whose stable checkpoint lies before that configuration
 *     began is from an older configuration (dropped), one whose stable checkpoint lies beyond what
 *     the receiver can judge makes it catch up first (it adopts the certified checkpoint and fetches).
 *
 * Why this is safe. Rules 1-2 put every vote on n in cfg(n), a function of the agreed executed
 * prefix up to B, so every certificate for n is counted with one configuration's quorums and the
 * usual intersection argument holds inside it. Sequence numbers up to B are decided in the old
 * configuration; the new one starts above its stable checkpoint B (every VIEW-CHANGE of the new
 * configuration has stable checkpoint >= B), so its NEW-VIEWs never reassign them. Inside the new
 * configuration view changes are the paper's, with its members and quorums.
 *
 * Replicas that join. A new replica starts with no state and a trusted configuration (the one in
 * force when it was added: PbftConfig.replicas and PbftConfig.epoch), of which it need not be a
 * member. It learns the checkpoints of that configuration, fetches a stable state, and checks the
 * certificate with the configuration that signed it. When the state is later than one configuration
 * change, the State message carries the chain of links: for each change, the new configuration and
 * the stable checkpoint certificate at its boundary, signed by the configuration before it, whose
 * digest binds the new configuration. Walking the chain from a trusted configuration is sound by
 * induction under the model's assumption per configuration: at most f of each configuration's
 * replicas are faulty (for as long as its certificates are used), so 2f+1 of them include a correct
 * replica that computed that digest. A removed replica stops taking part once the boundary is
 * stable, and keeps answering state transfer requests with the states it holds.
 */

/** The op of a reconfiguration request starts with these bytes. */
export const RECONFIGURE_MARK = 'synod-pbft-reconfigure/1\n';
const MARK_BYTES = new TextEncoder().encode(RECONFIGURE_MARK);
/** The largest replica set a reconfiguration may name. */
export const MAX_REPLICAS = 64;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The op of a request asking for `replicas` as the new replica set (signed by the admin principal). */
export function encodeReconfiguration(replicas: ReplicaId[]): Uint8Array {
  return enc.encode(RECONFIGURE_MARK + JSON.stringify({ replicas }));
}

export function isReconfiguration(op: Uint8Array): boolean {
  if (op.length < MARK_BYTES.length) return false;
  for (let i = 0; i < MARK_BYTES.length; i++) if (op[i] !== MARK_BYTES[i]) return false;
  return true;
}

/** Why a replica set cannot be a configuration (null: it can). */
export function replicaSetProblem(replicas: unknown): string | null {
  if (!Array.isArray(replicas) || replicas.length > MAX_REPLICAS) return 'replicas must be a list of at most 64 ids';
  if (!replicas.every((r) => typeof r === 'string' && r.length > 0 && r.length <= 128)) return 'replica ids must be non-empty strings';
  if (new Set(replicas).size !== replicas.length) return 'duplicate replica ids';
  const f = (replicas.length - 1) / 3;
  if (!Number.isInteger(f) || f < 1) return `n = 3f+1 with f >= 1 (4, 7, 10, ...), got ${replicas.length}`;
  return null;
}

/** The replica set a reconfiguration op names, or why it names none. */
export function decodeReconfiguration(op: Uint8Array): { replicas: ReplicaId[] } | { problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(dec.decode(op.subarray(MARK_BYTES.length)));
  } catch {
    return { problem: 'malformed' };
  }
  const replicas = (body as { replicas?: unknown } | null)?.replicas;
  const problem = replicaSetProblem(replicas);
  return problem === null ? { replicas: [...(replicas as string[])] } : { problem };
}

/** The first checkpoint boundary at or after `seq`. */
export function boundaryAtOrAfter(seq: number, K: number): number {
  return Math.ceil(seq / K) * K;
}

export function sameReplicas(a: readonly ReplicaId[], b: readonly ReplicaId[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

export function configurationDigest(configs: readonly PbftConfiguration[]): string {
  const canonical = configs.map((c) => [c.epoch, c.since, c.replicas]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/**
 * The state part of a checkpoint digest (the app's and the client table's, `part`) with the
 * configurations (the previous and the latest) bound in. Left as it was before the first change
 * (epoch 0), so that digests from before reconfiguration existed still verify.
 */
export function withConfiguration(part: string, configs: readonly PbftConfiguration[]): string {
  const latest = configs[configs.length - 1];
  return latest === undefined || latest.epoch === 0 ? part : `${part}:config:${configurationDigest(configs)}`;
}

/** The digest a link's checkpoint must carry for its configuration to be the one bound in. */
export function linkDigest(link: Pick<ConfigurationLink, 'position' | 'part' | 'head'>, configs: readonly PbftConfiguration[]): string {
  return checkpointLedgerDigest(checkpointDigest(link.position, withConfiguration(link.part, configs)), link.head);
}

/** A configuration's certificate sizes and membership, for the checks of certificates.ts. */
export function configurationContext(
  conf: PbftConfiguration,
  base: Omit<CertificateContext, 'q' | 'isMember' | 'primaryOf'>,
  weak: boolean,
): CertificateContext {
  const members = new Set(conf.replicas);
  const n = conf.replicas.length;
  return { ...base, q: quorums(n, weak), isMember: (id) => members.has(id), primaryOf: (v) => conf.replicas[v % n] };
}

/**
 * Walks `links` from the trusted configuration `from` over every change that took effect before
 * `seq` (the checkpoint being checked): each link must be the next epoch, sit at its boundary, bind
 * its configuration in its digest and carry 2f+1 signatures of the configuration before it. Returns
 * the configuration that governs `seq` (and the one before it, and the links walked), or null when
 * a link does not hold. Links at or below `from`'s epoch are skipped (already trusted).
 */
export function walkConfigurationChain(
  from: { conf: PbftConfiguration; prev: PbftConfiguration | null },
  links: readonly ConfigurationLink[] | undefined,
  seq: number,
  contextOf: (conf: PbftConfiguration) => CertificateContext,
): { conf: PbftConfiguration; prev: PbftConfiguration | null; walked: ConfigurationLink[] } | null {
  let conf = from.conf;
  let prev = from.prev;
  const walked: ConfigurationLink[] = [];
  if (links === undefined) return { conf, prev, walked };
  if (!Array.isArray(links) || links.length > 1024) return null;
  const sorted = [...links].sort((a, b) => a.configuration.epoch - b.configuration.epoch);
  for (const link of sorted) {
    try {
      const next = link.configuration;
      if (next.epoch <= conf.epoch) continue;
      if (link.seq >= seq) break;
      if (next.epoch !== conf.epoch + 1 || next.since !== link.seq || link.seq <= conf.since) return null;
      if (replicaSetProblem(next.replicas) !== null) return null;
      if (linkDigest(link, [conf, next]) !== link.digest) return null;
      const ctx = contextOf(conf);
      if (link.seq % ctx.checkpointInterval !== 0 || !validCheckpointProof(ctx, link.seq, link.digest, link.proof)) return null;
      prev = conf;
      conf = { epoch: next.epoch, replicas: [...next.replicas], since: next.since };
      walked.push(link);
    } catch {
      return null;
    }
  }
  return { conf, prev, walked };
}
