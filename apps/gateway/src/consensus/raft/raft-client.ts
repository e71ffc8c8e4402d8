import type { KvRequest, KvResult } from '@app/consensus/kv';
import { FrameCoalescer, type Consistency, type ProposeBody, type Protocol, type ReadBody, type ReadQuery } from '@app/wire';
import type { FramePort } from '../../bus/gateway-bus';
import type { ConsensusClient, ConsensusClientStats, ReadAnswer } from '../consensus-client';
import { ConsensusClosedError, ConsensusTimeoutError, ConsensusUnavailableError } from '../errors';
import type { LeaderSource } from './leader-source';
import { isResult, parseReply, type Reply } from './replies';

export interface RaftClientOptions {
  /** Total time a request may take: then 503 (never reached a leader) or 504 (fate unknown). */
  requestTimeoutMs: number;
  /** How long one attempt waits for an answer before the request goes again, to whoever leads then. */
  attemptTimeoutMs: number;
  /** Most requests in one propose frame. */
  maxBatchRequests: number;
  /** `any`: reads spread over the alive replicas (followers serve linearizable ones by follower ReadIndex); default `leader`. */
  readsFrom?: 'leader' | 'any';
  /**
   * Most propose frames unanswered at one leader. Beyond it writes wait and leave together when one
   * comes back, so batches grow with the load (as group commit does) while a lone write goes at once.
   */
  maxInflightFrames?: number;
  /** Pause before trying again after a refusal that names no other leader (no-quorum, killed, ...). */
  refusalBackoffMs?: number;
  /** While no leader is known, look again this often (a leader beacon also wakes waiting requests). */
  leaderPollMs?: number;
}

/** One client request (a write or a read) until it settles. */
interface Call {
  readonly id: string;
  readonly write: KvRequest | null;
  readonly read: { query: ReadQuery; consistency: Consistency } | null;
  /** No attempt starts after this (ms epoch), so the last one can be answered before the deadline. */
  readonly lastSendAt: number;
  settled: boolean;
  /** The attempt waiting for an answer now, if any. */
  current: Attempt | null;
  /** Every attempt made: a late answer to any of them still settles the call. */
  readonly attempts: Attempt[];
  /** Where a redirect said to go next. */
  hint: string | null;
  lastTarget: string | null;
  lastRefusal: string | null;
  deadlineTimer: NodeJS.Timeout;
  retryTimer: NodeJS.Timeout | null;
  resolve(value: KvResult | ReadAnswer): void;
  reject(err: Error): void;
}

/** One frame sent to one replica, carrying one or more calls. */
interface Attempt {
  readonly corr: string;
  readonly target: string;
  readonly calls: Call[];
  timer: NodeJS.Timeout | null;
  /** Any reply came (result or redirect): this attempt's effect is known. */
  answered: boolean;
  /** Calls not yet settled: the correlation entry is dropped at zero. */
  open: number;
  /** Counts against the leader's window until answered or timed out. */
  inflight: boolean;
}

const FATE_KNOWN_REFUSALS = new Set(['not-leader', 'transferring', 'no-quorum', 'killed', 'overloaded']);
const NO_QUORUM = 'no quorum reachable';

/**
 * The Raft side of the gateway: sends each command to the leader and waits for its result.
 *
 * - Batching: calls made in one event-loop turn leave together at the next setImmediate, one
 *   propose frame per leader (split at maxBatchRequests), all frames in one pipeline.
 * - Redirects are followed to the hinted leader, else to the beacon leader after a short pause.
 * - An attempt left unanswered is sent again with the same request ids to whoever leads then:
 *   the state machine applies an id once and answers a retry with the first result.
 * - At the deadline: if any attempt went unanswered the outcome is unknown (timeout, 504);
 *   otherwise no leader took it (unavailable, 503).
 */
export class RaftClient implements ConsensusClient {
  readonly protocol: Protocol = 'raft';
  private readonly queue: Call[] = [];
  private readonly parked = new Set<Call>();
  private readonly live = new Set<Call>();
  private readonly attempts = new Map<string, Attempt>();
  /** Writes held back because their leader's window is full, by target. */
  private readonly held = new Map<string, Call[]>();
  /** Propose frames awaiting an answer, by target. */
  private readonly inflight = new Map<string, number>();
  private flushScheduled = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private seq = 0;
  private closed = false;
  private readonly refusalBackoffMs: number;
  private readonly leaderPollMs: number;
  private readonly maxInflightFrames: number;
  /** What one flush has for each replica, sent as few frames as possible. */
  private readonly out: FrameCoalescer;
  private readonly quietMs: number;
  private readonly counters = {
    frames: { propose: 0, read: 0 } as Record<string, number>,
    proposedRequests: 0,
    retries: 0,
    redirects: {} as Record<string, number>,
    lateReplies: 0,
    unavailable: 0,
    timedOut: 0,
  };

  constructor(
    private readonly port: FramePort,
    private readonly leaders: LeaderSource,
    private readonly opts: RaftClientOptions,
  ) {
    this.refusalBackoffMs = opts.refusalBackoffMs ?? 50;
    this.leaderPollMs = opts.leaderPollMs ?? 25;
    this.maxInflightFrames = opts.maxInflightFrames ?? 4;
    this.out = new FrameCoalescer(port);
    // A replica answers in about a millisecond; an attempt begun this close to the deadline would
    // turn a refused request (503, nothing applied) into an unknown one (504) for no gain.
    this.quietMs = Math.min(100, opts.attemptTimeoutMs / 2, opts.requestTimeoutMs / 10);
    leaders.onLeader(() => this.unpark());
  }

  submit(request: KvRequest): Promise<KvResult> {
    return this.start(request.id, request, null) as Promise<KvResult>;
  }

  read(id: string, query: ReadQuery, consistency: Consistency): Promise<ReadAnswer> {
    return this.start(id, null, { query, consistency }) as Promise<ReadAnswer>;
  }

  /** A reply frame from a replica (the gateway's direct channel). */
  onReply(from: string, body: unknown): void {
    const reply = parseReply(body);
    if (reply === null) return;
    const attempt = this.attempts.get(reply.corr);
    if (attempt === undefined) {
      this.counters.lateReplies++;
      return;
    }
    attempt.answered = true;
    this.stopTimer(attempt);
    this.release(attempt);
    if (reply.t === 'redirect') this.onRedirect(attempt, from, reply);
    else this.onAnswer(attempt, reply);
  }

  stats(): ConsensusClientStats {
    return {
      ...this.counters,
      frames: { ...this.counters.frames },
      redirects: { ...this.counters.redirects },
      inFlight: this.live.size,
    };
  }

  close(): void {
    this.closed = true;
    this.held.clear();
    for (const call of [...this.live]) this.settle(call, new ConsensusClosedError(call.id));
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private start(id: string, write: KvRequest | null, read: Call['read']): Promise<KvResult | ReadAnswer> {
    if (this.closed) return Promise.reject(new ConsensusClosedError(id));
    // As PBFT's client does: with no quorum reachable nothing can commit, so say so now (nothing sent)
    // rather than at the deadline. A stale read needs no quorum; a mere election (leader unknown,
    // quorum alive) waits as before.
    if (read?.consistency !== 'stale' && this.leaders.quorumUnreachable()) {
      this.counters.unavailable++;
      return Promise.reject(new ConsensusUnavailableError(NO_QUORUM, id));
    }
    return new Promise((resolve, reject) => {
      const call: Call = {
        id,
        write,
        read,
        lastSendAt: Date.now() + this.opts.requestTimeoutMs - this.quietMs,
        settled: false,
        current: null,
        attempts: [],
        hint: null,
        lastTarget: null,
        lastRefusal: null,
        deadlineTimer: setTimeout(() => this.onDeadline(call), this.opts.requestTimeoutMs),
        retryTimer: null,
        resolve,
        reject,
      };
      this.live.add(call);
      this.enqueue(call);
    });
  }

  private enqueue(call: Call): void {
    this.queue.push(call);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const proposals = new Map<string, Call[]>();
    const reads: Array<[string, Call]> = [];
    const now = Date.now();
    const noQuorum = this.leaders.quorumUnreachable();
    for (const call of this.queue.splice(0)) {
      // Too late to begin another attempt: the deadline decides.
      if (call.settled || now >= call.lastSendAt) continue;
      if (noQuorum && this.fateKnownNeedsQuorum(call)) {
        this.counters.unavailable++;
        this.settle(call, new ConsensusUnavailableError(NO_QUORUM, call.id));
        continue;
      }
      const target = this.targetOf(call);
      if (target === null) {
        this.parked.add(call);
        continue;
      }
      if (call.write !== null) {
        const group = proposals.get(target);
        if (group) group.push(call);
        else proposals.set(target, [call]);
      } else reads.push([target, call]);
    }
    if (proposals.size > 0 || reads.length > 0) {
      // Everything for one replica leaves in as few frames as possible (ManyBody), in one pipeline.
      for (const [target, calls] of proposals) {
        let i = 0;
        for (; i < calls.length && (this.inflight.get(target) ?? 0) < this.maxInflightFrames; i += this.opts.maxBatchRequests) {
          this.out.add(target, this.propose(target, calls.slice(i, i + this.opts.maxBatchRequests)));
        }
        if (i < calls.length) this.hold(target, calls.slice(i));
      }
      for (const [target, call] of reads) this.out.add(target, this.readBody(target, call));
      this.out.flush();
    }
    if (this.parked.size > 0 && this.pollTimer === null) this.pollTimer = setInterval(() => this.unpark(), this.leaderPollMs);
  }

  /**
   * A call that needs a quorum (not a stale read) and whose every attempt was answered: when the
   * gateway knows no quorum is reachable, nothing was applied and nothing can be, so 503 now. A
   * call with an unanswered attempt keeps trying: its fate is unknown (504 at the deadline).
   */
  private fateKnownNeedsQuorum(call: Call): boolean {
    return call.read?.consistency !== 'stale' && call.attempts.every((a) => a.answered);
  }

  private hold(target: string, calls: Call[]): void {
    const held = this.held.get(target);
    if (held) held.push(...calls);
    else this.held.set(target, calls);
  }

  /** A propose frame to `attempt.target` was answered or given up on: its slot in the window frees. */
  private release(attempt: Attempt): void {
    if (!attempt.inflight) return;
    attempt.inflight = false;
    const n = (this.inflight.get(attempt.target) ?? 1) - 1;
    if (n > 0) this.inflight.set(attempt.target, n);
    else this.inflight.delete(attempt.target);
    const held = this.held.get(attempt.target);
    if (held === undefined) return;
    this.held.delete(attempt.target);
    // Re-targeted at the next flush: the leader may have changed meanwhile.
    for (const call of held) if (!call.settled) this.enqueue(call);
  }

  private targetOf(call: Call): string | null {
    const hint = call.hint;
    call.hint = null;
    if (hint !== null && this.leaders.isMember(hint)) return hint;
    const leader = this.leaders.leader();
    if (call.read === null) return leader;
    // Reads go to any replica alive when READS_FROM=any, and a stale one also while no leader is
    // known; a linearizable read still needs a known leader, who vouches for its index.
    const stale = call.read.consistency === 'stale';
    if (leader === null ? !stale : this.opts.readsFrom !== 'any') return leader;
    // Move on from the one that did not answer.
    const alive = this.leaders.aliveNodes();
    const others = alive.filter((id) => id !== call.lastTarget);
    const pool = others.length > 0 ? others : alive;
    return pool.length > 0 ? pool[this.seq % pool.length] : null;
  }

  /** Opens the attempt; the caller sends the body. */
  private propose(target: string, calls: Call[]): ProposeBody {
    const attempt = this.open(target, calls);
    attempt.inflight = true;
    this.inflight.set(target, (this.inflight.get(target) ?? 0) + 1);
    this.counters.frames.propose++;
    this.counters.proposedRequests += calls.length;
    return { t: 'propose', corr: attempt.corr, requests: calls.map((c) => c.write as KvRequest) };
  }

  /** Opens the attempt; the caller sends the body. */
  private readBody(target: string, call: Call): ReadBody {
    const attempt = this.open(target, [call]);
    const { query, consistency } = call.read as NonNullable<Call['read']>;
    this.counters.frames.read++;
    return { t: 'read', corr: attempt.corr, consistency, query };
  }

  private open(target: string, calls: Call[]): Attempt {
    const attempt: Attempt = {
      corr: `${this.port.self}.${(++this.seq).toString(36)}`,
      target,
      calls,
      timer: null,
      answered: false,
      open: calls.length,
      inflight: false,
    };
    attempt.timer = setTimeout(() => this.onAttemptTimeout(attempt), this.opts.attemptTimeoutMs);
    this.attempts.set(attempt.corr, attempt);
    for (const call of calls) {
      call.current = attempt;
      call.attempts.push(attempt);
      call.lastTarget = target;
    }
    return attempt;
  }

  private onAnswer(attempt: Attempt, reply: Exclude<Reply, { t: 'redirect' }>): void {
    attempt.calls.forEach((call, i) => {
      if (call.settled) return;
      if (reply.t === 'read-result' && call.read !== null) {
        const { t: _t, corr: _corr, ...answer } = reply;
        this.settle(call, answer);
        return;
      }
      const result = reply.t === 'result' ? reply.results[i] : undefined;
      if (call.write !== null && isResult(result)) {
        this.settle(call, result);
        return;
      }
      // The replica answered the frame but not this request: its fate is unknown, send it again.
      if (call.current === attempt) {
        attempt.answered = false;
        this.retry(call, 0);
      }
    });
  }

  private onRedirect(attempt: Attempt, from: string, reply: Extract<Reply, { t: 'redirect' }>): void {
    this.counters.redirects[reply.reason] = (this.counters.redirects[reply.reason] ?? 0) + 1;
    // A replica that names no reason we know makes no promise about what it did.
    if (!FATE_KNOWN_REFUSALS.has(reply.reason)) attempt.answered = false;
    const hint = reply.leader !== null && reply.leader !== from && this.leaders.isMember(reply.leader) ? reply.leader : null;
    for (const call of attempt.calls) {
      if (call.settled || call.current !== attempt) continue;
      call.lastRefusal = reply.reason;
      call.current = null;
      call.hint = hint;
      // Straight to a named other leader; otherwise give the cluster a moment (election, quorum).
      this.retry(call, hint !== null ? 0 : this.refusalBackoffMs);
    }
  }

  private onAttemptTimeout(attempt: Attempt): void {
    attempt.timer = null;
    this.release(attempt);
    for (const call of attempt.calls) {
      if (call.settled || call.current !== attempt) continue;
      this.counters.retries++;
      this.retry(call, 0);
    }
  }

  private retry(call: Call, delayMs: number): void {
    call.current = null;
    if (delayMs <= 0) {
      this.enqueue(call);
      return;
    }
    call.retryTimer = setTimeout(() => {
      call.retryTimer = null;
      if (!call.settled) this.enqueue(call);
    }, delayMs);
  }

  private onDeadline(call: Call): void {
    if (call.settled) return;
    const sent = call.attempts.length > 0;
    if (call.attempts.some((a) => !a.answered)) {
      this.counters.timedOut++;
      this.settle(call, new ConsensusTimeoutError(call.id, this.opts.requestTimeoutMs));
    } else {
      this.counters.unavailable++;
      this.settle(call, new ConsensusUnavailableError(sent ? (call.lastRefusal ?? 'refused') : 'no leader known', call.id));
    }
  }

  private unpark(): void {
    if (this.parked.size > 0) {
      const calls = [...this.parked];
      this.parked.clear();
      for (const call of calls) if (!call.settled) this.enqueue(call);
    }
    if (this.pollTimer !== null) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
  }

  private settle(call: Call, outcome: KvResult | ReadAnswer | Error): void {
    if (call.settled) return;
    call.settled = true;
    call.current = null;
    clearTimeout(call.deadlineTimer);
    if (call.retryTimer) clearTimeout(call.retryTimer);
    this.live.delete(call);
    this.parked.delete(call);
    for (const attempt of call.attempts) {
      if (--attempt.open > 0) continue;
      this.stopTimer(attempt);
      this.release(attempt);
      this.attempts.delete(attempt.corr);
    }
    if (outcome instanceof Error) call.reject(outcome);
    else call.resolve(outcome);
  }

  private stopTimer(attempt: Attempt): void {
    if (attempt.timer) clearTimeout(attempt.timer);
    attempt.timer = null;
  }
}
