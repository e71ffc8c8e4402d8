import type { Checkpoint, ClientRequest, Commit, PbftMessage, PrePrepare, Prepare, ReplicaId, StateTransfer, ViewChange } from '../types';
import type { Kit } from './kit';

/** Bounds on what a Byzantine replica remembers (the simulator runs thousands of schedules). */
const MAX_SEQS = 512;
const MAX_REQUESTS = 128;
const MAX_STATES = 4;

export interface StableProof {
  seq: number;
  digest: string;
  proof: Checkpoint[];
}

/**
 * What a Byzantine replica learns from the messages it sees and sends: the raw material of its
 * lies. Real signatures by other replicas (prepares, commits, checkpoints, view-changes) are
 * worth keeping: a lie that mixes genuine entries into a fake proof is the kind a careless
 * certificate check lets through.
 */
export class Knowledge {
  /** The highest view any message named. */
  view = 0;
  /** The highest sequence number any pre-prepare, prepare or commit named. */
  maxSeq = 0;
  /** Per sequence number, the pre-prepare of the highest view seen (own or observed). */
  readonly prePrepares = new Map<number, PrePrepare>();
  /** Per sequence number, prepares by other replicas in the view of the latest pre-prepare. */
  readonly prepares = new Map<number, Prepare[]>();
  readonly commits = new Map<number, Commit[]>();
  /** Client requests seen ordered, oldest first: what a liar re-orders elsewhere. */
  readonly requests: ClientRequest[] = [];
  /** The latest stable checkpoint proven by 2f+1 matching checkpoints seen here. */
  stable: StableProof = { seq: 0, digest: '', proof: [] };
  /** Earlier stable checkpoints: valid proofs, but stale. */
  readonly staleProofs: StableProof[] = [];
  /** Per view, the view-changes seen (own included), by sender. */
  readonly viewChanges = new Map<number, Map<ReplicaId, ViewChange>>();
  /** The latest VIEW-CHANGE this replica's own core sent. */
  ownViewChange: ViewChange | null = null;
  /** Recent State answers (sent or seen): a stale one is a plausible lie. */
  readonly states: StateTransfer[] = [];
  private readonly checkpoints = new Map<number, Map<ReplicaId, Checkpoint>>();
  private interval: number;

  constructor(
    private readonly kit: Kit,
    private readonly givenInterval?: number,
    private readonly window?: number,
  ) {
    this.interval = givenInterval ?? 0;
  }

  /** K: given, else inferred from the checkpoint sequence numbers seen (their gcd). */
  get checkpointInterval(): number {
    return this.interval > 0 ? this.interval : 1;
  }

  /** L: given, else a bound that keeps forged proofs small. */
  get logWindow(): number {
    return this.window ?? Math.max(4 * this.checkpointInterval, 16);
  }

  see(m: PbftMessage): void {
    // The view its own core is in (checked by a correct core): another Byzantine replica's flood
    // names views near 2^53, and a lie built on those would not even encode.
    if (m.from === this.kit.id && 'view' in m && m.view > this.view && m.type !== 'Forward') this.view = m.view;
    // Sequence numbers far past the window are another liar's noise.
    if (('seq' in m && m.seq > this.stable.seq + 2 * this.logWindow) || ('view' in m && m.view > this.view + this.kit.n)) return;
    switch (m.type) {
      case 'PrePrepare':
        this.seePrePrepare(m);
        return;
      case 'Prepare':
      case 'Commit':
        this.seeVote(m);
        return;
      case 'Checkpoint':
        this.seeCheckpoint(m);
        return;
      case 'ViewChange':
        this.seeViewChange(m);
        return;
      case 'NewView':
        for (const vc of m.viewChanges) this.seeViewChange(vc);
        for (const pp of m.prePrepares) this.seePrePrepare(pp);
        return;
      case 'State':
        this.states.push(m);
        if (this.states.length > MAX_STATES) this.states.shift();
        for (const c of m.proof) this.seeCheckpoint(c);
        return;
      case 'Forward':
        for (const r of m.requests) this.remember(r);
        return;
      default:
        return;
    }
  }

  /** A genuine proof (2f+1 matching checkpoints) for seq, when one was seen. */
  proofAt(seq: number): StableProof | null {
    if (seq === this.stable.seq) return this.stable;
    return this.staleProofs.find((p) => p.seq === seq) ?? null;
  }

  /** Checkpoints seen for seq (any digest). */
  checkpointsAt(seq: number): Checkpoint[] {
    return [...(this.checkpoints.get(seq)?.values() ?? [])];
  }

  /** The highest checkpoint sequence number anyone claimed. */
  get maxCheckpointSeq(): number {
    let max = 0;
    for (const s of this.checkpoints.keys()) if (s > max) max = s;
    return max;
  }

  private seePrePrepare(pp: PrePrepare): void {
    if (pp.seq <= this.stable.seq) return;
    this.maxSeq = Math.max(this.maxSeq, pp.seq);
    const cur = this.prePrepares.get(pp.seq);
    if (cur === undefined || pp.view >= cur.view) this.prePrepares.set(pp.seq, pp);
    for (const r of pp.requests) this.remember(r);
    this.bound(this.prePrepares);
  }

  private seeVote(v: Prepare | Commit): void {
    if (v.seq <= this.stable.seq) return;
    this.maxSeq = Math.max(this.maxSeq, v.seq);
    const map: Map<number, (Prepare | Commit)[]> = v.type === 'Prepare' ? this.prepares : this.commits;
    let list = map.get(v.seq) ?? [];
    // Keep one view's votes (the latest), one per sender.
    if (list.length > 0 && list[0].view < v.view) list = [];
    if (list.length > 0 && list[0].view > v.view) return;
    if (list.some((x) => x.from === v.from)) return;
    list.push(v);
    map.set(v.seq, list);
    this.bound(map);
  }

  private seeCheckpoint(c: Checkpoint): void {
    if (c.seq <= 0 || c.seq <= this.stable.seq) return;
    if (this.givenInterval === undefined) this.interval = this.interval > 0 ? gcd(this.interval, c.seq) : c.seq;
    let votes = this.checkpoints.get(c.seq);
    if (votes === undefined) {
      votes = new Map();
      this.checkpoints.set(c.seq, votes);
      this.bound(this.checkpoints);
    }
    if (!votes.has(c.from)) votes.set(c.from, c);
    const matching = [...votes.values()].filter((x) => x.digest === c.digest);
    if (matching.length >= 2 * this.kit.f + 1) this.adoptStable({ seq: c.seq, digest: c.digest, proof: matching.slice(0, 2 * this.kit.f + 1) });
  }

  private seeViewChange(vc: ViewChange): void {
    if (vc.from === this.kit.id && (this.ownViewChange === null || vc.view >= this.ownViewChange.view)) this.ownViewChange = vc;
    let byFrom = this.viewChanges.get(vc.view);
    if (byFrom === undefined) {
      byFrom = new Map();
      this.viewChanges.set(vc.view, byFrom);
    }
    byFrom.set(vc.from, vc);
    if (vc.stableSeq > this.stable.seq && vc.checkpointProof.length > 0) for (const c of vc.checkpointProof) this.seeCheckpoint(c);
    // Only recent views matter.
    for (const v of [...this.viewChanges.keys()]) if (v < this.view - 4) this.viewChanges.delete(v);
  }

  private adoptStable(p: StableProof): void {
    if (p.seq <= this.stable.seq) return;
    if (this.stable.seq > 0) {
      this.staleProofs.push(this.stable);
      if (this.staleProofs.length > 4) this.staleProofs.shift();
    }
    this.stable = p;
    for (const map of [this.prePrepares, this.prepares, this.commits, this.checkpoints] as Map<number, unknown>[])
      for (const s of [...map.keys()]) if (s <= p.seq) map.delete(s);
  }

  private remember(r: ClientRequest): void {
    if (this.requests.some((x) => x.client === r.client && x.id === r.id)) return;
    this.requests.push(r);
    if (this.requests.length > MAX_REQUESTS) this.requests.shift();
  }

  /** Drops the lowest sequence numbers past the bound. */
  private bound(map: Map<number, unknown>): void {
    if (map.size <= MAX_SEQS) return;
    const seqs = [...map.keys()].sort((a, b) => a - b);
    for (const s of seqs.slice(0, map.size - MAX_SEQS)) map.delete(s);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
