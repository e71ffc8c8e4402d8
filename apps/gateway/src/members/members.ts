import { channelFor } from '@app/bus';
import { redact } from '@app/config';

/** Where a member is reached: its inbox channel on the bus, on its home Redis (credentials hidden). */
export interface MemberAddress {
  channel: string;
  home: string | null;
}

/** One member as GET /v1/members and the admin member routes answer it. */
export interface Member {
  id: string;
  role: 'voter' | 'learner';
  alive: boolean;
  leader: boolean;
  appliedIndex: number;
  matchIndex: number | null;
  address: MemberAddress;
}

/** A member's address, from the identity directory (NODES and BUS_URLS: provisioned with its keys). */
export function addressOf(cluster: string, busRoutes: Record<string, string>, id: string): MemberAddress {
  const home = busRoutes[id];
  return { channel: channelFor(cluster, id), home: home === undefined ? null : redact(home) };
}

export interface MembersList {
  members: Member[];
  leader: string | null;
  configIndex: number;
  committed: boolean;
}

/**
 * Membership at runtime, one way in for each action; the protocol decides how: Raft changes its
 * configuration one server at a time through the leader (raft-members.ts), PBFT reconfigures to a
 * whole 3f+1 set with an admin-signed request (pbft-members.ts). The module provides the one this
 * cluster runs; the controllers only translate HTTP to these calls.
 */
export abstract class Members {
  abstract list(): MembersList;
  abstract add(id: string, role: 'learner' | 'voter'): Promise<Member>;
  abstract promote(id: string): Promise<Member>;
  abstract demote(id: string): Promise<Member>;
  abstract remove(id: string): Promise<Member>;
  abstract transfer(to: string): Promise<{ leader: string | null; from: string | null }>;
}
