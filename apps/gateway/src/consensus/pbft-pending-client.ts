import type { KvItem, KvRequest, KvResult } from '@app/consensus/kv';
import type { Protocol } from '@app/wire';
import type { ConsensusClient, ConsensusClientStats } from './consensus-client';
import { ConsensusUnavailableError } from './errors';

/**
 * Stand-in until the PBFT client (multicast to the replicas, accept f+1 matching replies) is
 * written beside RaftClient: a PBFT gateway still serves the cluster view and the admin API,
 * and answers KV calls with a plain 503 rather than pretending.
 */
export class PbftPendingClient implements ConsensusClient {
  readonly protocol: Protocol = 'pbft';
  private refused = 0;

  submit(request: KvRequest): Promise<KvResult> {
    return this.refuse(request.id);
  }

  read(id: string): Promise<KvItem[]> {
    return this.refuse(id);
  }

  stats(): ConsensusClientStats {
    return { frames: {}, proposedRequests: 0, retries: 0, redirects: {}, lateReplies: 0, unavailable: this.refused, timedOut: 0, inFlight: 0 };
  }

  close(): void {}

  private refuse<T>(id: string): Promise<T> {
    this.refused++;
    return Promise.reject(new ConsensusUnavailableError('this gateway has no PBFT client yet', id));
  }
}
