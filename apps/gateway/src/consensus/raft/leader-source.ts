/** Where the Raft client learns who leads (the ClusterView; a stub in unit tests). */
export interface LeaderSource {
  leader(): string | null;
  aliveNodes(): string[];
  isMember(id: string): boolean;
  /** The gateway knows fewer than a majority of replicas can be reached: nothing can commit now. */
  quorumUnreachable(): boolean;
  onLeader(listener: (leader: string) => void): void;
}
