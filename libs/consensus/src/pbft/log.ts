import { mutant } from '../mutants';
import type { Commit, CommitCertificate, PbftLogEntry, PreparedCertificate, PrePrepare, Prepare, ReplicaId } from './types';

/** Everything one replica knows about one sequence number in (h, H]. */
export class Slot {
  /** The pre-prepare accepted in the latest view (maybe older than the current view). */
  prePrepare: PrePrepare | null = null;
  /** Prepared certificate of the highest view in which this seq prepared here; survives view changes. */
  prepared: PreparedCertificate | null = null;
  /** Set once committed-local (in any view): the decision for this seq. */
  committed: CommitCertificate | null = null;

  /** Votes of `votesView` only: a new view starts the count afresh. */
  votesView = -1;
  prepares = new Map<ReplicaId, Prepare>();
  commits = new Map<ReplicaId, Commit>();
  /** This replica's own votes in `votesView`, kept for retransmission. */
  ownPrepare: Prepare | null = null;
  ownCommit: Commit | null = null;

  constructor(readonly seq: number) {}

  /** Forgets the votes of older views. */
  votesFor(view: number): void {
    if (this.votesView === view) return;
    this.votesView = view;
    if (mutant('pbft.log.keep-votes-across-views')) return;
    this.prepares = new Map();
    this.commits = new Map();
    this.ownPrepare = null;
    this.ownCommit = null;
  }

  /** The pre-prepare accepted in `view`, if any. */
  prePrepareIn(view: number): PrePrepare | null {
    return this.prePrepare !== null && this.prePrepare.view === view ? this.prePrepare : null;
  }

  isPreparedIn(view: number): boolean {
    return this.prepared !== null && this.prepared.prePrepare.view === view;
  }

  toEntry(): PbftLogEntry {
    return { seq: this.seq, prePrepare: this.prePrepare, prepared: this.prepared, committed: this.committed };
  }

  static fromEntry(e: PbftLogEntry): Slot {
    const s = new Slot(e.seq);
    s.prePrepare = e.prePrepare;
    s.prepared = e.prepared;
    s.committed = e.committed;
    return s;
  }
}
