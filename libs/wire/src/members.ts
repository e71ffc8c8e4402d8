/**
 * Membership changes from a gateway's admin API to the Raft leader, and what replicas publish of
 * their membership. Requests travel sealed over the control plane's transport (libs/bus envelope),
 * on a pattern of their own under the replica's control pattern: the same door, keys and ACL.
 */
import type { ConfChange } from '@app/consensus/raft';

export function membershipPattern(cluster: string, node: string): string {
  return `synod.${cluster}.control.${node}.members`;
}

export type MembershipRequest =
  /** Propose the change at this replica (it must lead); answered once it is applied. */
  | { action: 'change'; changes: ConfChange[] }
  /** Hand leadership to `to` (a voter); answered when the transfer starts. */
  | { action: 'transfer'; to: string };

export interface MembershipReply {
  voters: string[];
  learners: string[];
  /** The log index of the configuration entry (0: the initial configuration). */
  index: number;
}

/**
 * A refusal travels as the error text `refused:<reason>[:<leaderHint>]` (the control plane carries
 * errors as strings); the reasons are ConfChangeRefusal's, and `not-voter` for a transfer target.
 */
export const MEMBERSHIP_REFUSED = 'refused:';

/** What a replica's beacon says of its membership: its latest configuration, and (leader) each member's matchIndex. */
export interface BeaconMembers {
  voters: string[];
  learners: string[];
  index: number;
  /** Whether that configuration is committed (no change in flight), as this replica knows. */
  committed: boolean;
  /** The leader's matchIndex of each other member. */
  match?: Record<string, number>;
  /** PBFT: `index` is the configuration's epoch, `committed` false while a decided change waits for its boundary. */
  pbft?: BeaconPbftConfiguration;
}

/** PBFT's reconfiguration state at one replica (its PbftStatus), for gateways and the admin API. */
export interface BeaconPbftConfiguration {
  /** The checkpoint boundary after which the configuration in force governs. */
  since: number;
  /** A configuration decided (executed) that takes over once checkpoint `since` is stable; null: none. */
  next: { epoch: number; replicas: string[]; since: number } | null;
  /** Whether this replica is in the configuration in force (false: joining, or removed). */
  member: boolean;
}
