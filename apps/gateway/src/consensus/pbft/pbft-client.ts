import { randomUUID } from 'node:crypto';
import { packr } from '@app/consensus/kv/msgpack';
import type { KvRequest, KvResult } from '@app/consensus/kv';
import { ClientRequest, PbftCrypto, Reply, signRequest, STALE_REQUEST, verifyReply } from '@app/consensus/pbft';
import { Consistency, pbftClientFor, PbftOp, PbftOpResult, PbftRequestBody, Protocol, ReadQuery } from '@app/wire';
import type { FramePort } from '../../bus/gateway-bus';
import type { ConsensusClient, ConsensusClientStats, ReadAnswer } from '../consensus-client';
import { ConsensusClosedError, ConsensusTimeoutError, ConsensusUnavailableError } from '../errors';
import type { LeaderSource } from '../raft/leader-source';
import type { PbftConfigurations } from '../../cluster/pbft-configurations';
import { replyRule, ReplyTally } from './reply-tally';

export interface PbftClientOptions {
  /** The replica set when `configurations` is not given (a fixed cluster). */
  replicas: string[];
  /** The configurations in force as the gateway trusts them (ClusterView): requests and reply quorums follow them. */
  configurations?: () => PbftConfigurations;
  crypto: PbftCrypto;
  requestTimeoutMs: number;
  /** Unanswered this long at the primary, a request is multicast to every replica (and again after as long). */
  attemptTimeoutMs: number;
  /** Commands per signed request at most. */
  maxBatch: number;
  /** Signed requests unanswered at once; beyond it commands wait and leave together (batches grow with load). */
  maxInflight?: number;
}

interface Call {
  op: PbftOp;
  resolve(r: PbftOpResult): void;
  reject(err: Error): void;
  id: string;
}

interface Outstanding {
  request: ClientRequest;
  calls: Call[];
  /** The configuration in force when it was sent: replies count from it and every later one. */
  epoch: number;
  replies: ReplyTally;
  timer: NodeJS.Timeout;
  deadline: NodeJS.Timeout;
}

/**
 * The gateway as a PBFT client (Castro & Liskov §4.1): commands of one event-loop turn become one
 * signed request, sent to the primary of the current view; unanswered, it is multicast to all
 * replicas (which forward it and start their timers, so a faulty primary is replaced). A result is
 * accepted only on f+1 matching signed replies — at least one from a correct replica.
 */
export class PbftClient implements ConsensusClient {
  readonly protocol: Protocol = 'pbft';
  private readonly outstanding = new Map<string, Outstanding>();
  private queue: Call[] = [];
  private flushScheduled = false;
  private closed = false;
  /** This gateway's PBFT client id; its requests carry strictly increasing timestamps. */
  private readonly client: string;
  private lastTs = 0;
  private readonly counters: ConsensusClientStats = {
    frames: {},
    proposedRequests: 0,
    retries: 0,
    redirects: {},
    lateReplies: 0,
    unavailable: 0,
    timedOut: 0,
    inFlight: 0,
  };

  constructor(
    private readonly bus: FramePort,
    private readonly view: LeaderSource,
    private readonly o: PbftClientOptions,
  ) {
    this.client = pbftClientFor(bus.self);
  }

  private configurations(): PbftConfigurations {
    return this.o.configurations?.() ?? { prev: null, current: { epoch: 0, replicas: this.o.replicas, since: 0 }, next: null };
  }

  /** Where requests go: every replica of the configuration in force and of the one decided next. */
  private targets(): string[] {
    const c = this.configurations();
    return [...new Set([...c.current.replicas, ...(c.next?.replicas ?? [])])];
  }

  submit(request: KvRequest): Promise<KvResult> {
    return this.call(request.id, { kind: 'write', request }).then((r) => {
      if (r.kind === 'write') return r.result;
      throw new Error(r.kind === 'error' ? r.error : 'unexpected result');
    });
  }

  read(id: string, query: ReadQuery, _consistency: Consistency): Promise<ReadAnswer> {
    // Reads are ordered like writes: f+1 matching answers to an ordered read are linearizable.
    return this.call(id, { kind: 'read', query }).then((r) => {
      if (r.kind === 'read') {
        const { kind: _kind, ...answer } = r;
        return answer;
      }
      throw new Error(r.kind === 'error' ? r.error : 'unexpected result');
    });
  }

  onReply(body: unknown): void {
    const reply = (body as { reply?: Reply } | null)?.reply;
    // Replies to this gateway's other identities (the admin's) are not ours.
    if (!reply || typeof reply.id !== 'string' || reply.to !== this.client) return;
    const out = this.outstanding.get(reply.id);
    if (!out) {
      this.counters.lateReplies++;
      return;
    }
    const rule = replyRule(this.configurations(), out.epoch);
    if (!rule.members.has(reply.from) || out.replies.has(reply.from) || !verifyReply(this.o.crypto, reply)) return;
    if (out.replies.add(reply, rule) === null) return;
    this.finish(out);
    if (Buffer.from(reply.result).equals(STALE_REQUEST)) {
      // Executed so long ago (or overtaken by this gateway's later requests so far) that the
      // replicas' client table dropped its answer: it may have been applied; the REST retry with
      // the same Idempotency-Key goes in under a new timestamp and the KV session decides.
      const why = 'the replicas no longer remember this request: its timestamp fell out of their client table';
      for (const c of out.calls) c.reject(new ConsensusTimeoutError(c.id, this.o.requestTimeoutMs, why));
      this.flush();
      return;
    }
    let results: PbftOpResult[];
    try {
      results = packr.unpack(reply.result) as PbftOpResult[];
    } catch {
      results = [];
    }
    out.calls.forEach((c, i) => {
      const r = results[i];
      if (r) c.resolve(r);
      else c.reject(new Error('the replicas answered with a malformed result'));
    });
    this.flush();
  }

  stats(): ConsensusClientStats {
    return { ...this.counters, inFlight: [...this.outstanding.values()].reduce((n, o) => n + o.calls.length, 0) + this.queue.length };
  }

  close(): void {
    this.closed = true;
    for (const out of [...this.outstanding.values()]) {
      this.finish(out);
      for (const c of out.calls) c.reject(new ConsensusClosedError(c.id));
    }
    for (const c of this.queue) c.reject(new ConsensusClosedError(c.id));
    this.queue = [];
  }

  private call(id: string, op: PbftOp): Promise<PbftOpResult> {
    if (this.closed) return Promise.reject(new ConsensusClosedError(id));
    // Fewer than 2f+1 reachable replicas cannot order anything: say so at once (nothing was sent).
    if (this.view.quorumUnreachable()) {
      this.counters.unavailable++;
      return Promise.reject(new ConsensusUnavailableError('fewer than 2f+1 replicas alive', id));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject, id });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const maxInflight = this.o.maxInflight ?? 8;
    while (this.queue.length > 0 && this.outstanding.size < maxInflight) {
      const calls = this.queue.splice(0, this.o.maxBatch);
      this.send(calls);
    }
  }

  private send(calls: Call[]): void {
    const request = signRequest(this.o.crypto, {
      client: this.client,
      id: randomUUID(),
      // Replicas execute a client's timestamp once (C&L §4.1): never the same twice, even within a ms.
      ts: (this.lastTs = Math.max(Date.now(), this.lastTs + 1)),
      op: packr.pack(calls.map((c) => c.op)),
    });
    const out: Outstanding = {
      request,
      calls,
      epoch: this.configurations().current.epoch,
      replies: new ReplyTally(),
      timer: setTimeout(() => this.retransmit(out), this.o.attemptTimeoutMs),
      deadline: setTimeout(() => this.expire(out), this.o.requestTimeoutMs),
    };
    this.outstanding.set(request.id, out);
    this.counters.proposedRequests += calls.length;
    // To every replica at once (as BFT-SMaRt's clients do): each backup starts its timer now, so a
    // dead primary is replaced one request timeout after the request, whether or not this gateway
    // has noticed yet. The primary has it, so backups need not relay it.
    this.sendTo(this.targets(), request, false);
  }

  private retransmit(out: Outstanding): void {
    if (!this.outstanding.has(out.request.id)) return;
    this.counters.retries++;
    this.sendTo(this.targets(), out.request, true);
    out.timer = setTimeout(() => this.retransmit(out), this.o.attemptTimeoutMs);
  }

  /** Sent, never accepted: the commands may or may not have been executed. */
  private expire(out: Outstanding): void {
    if (!this.outstanding.has(out.request.id)) return;
    this.finish(out);
    this.counters.timedOut += out.calls.length;
    for (const c of out.calls) c.reject(new ConsensusTimeoutError(c.id, this.o.requestTimeoutMs));
    this.flush();
  }

  /** Done with a request, answered or not: nothing of it stays (late replies find no entry and are counted). */
  private finish(out: Outstanding): void {
    clearTimeout(out.timer);
    clearTimeout(out.deadline);
    this.outstanding.delete(out.request.id);
  }

  /** Requests whose replies are still tracked (bounded by the requests outstanding). */
  trackedReplies(): number {
    let n = 0;
    for (const out of this.outstanding.values()) if (out.replies.size > 0) n++;
    return n;
  }

  private sendTo(targets: string[], request: ClientRequest, relay: boolean): void {
    const body: PbftRequestBody = { t: 'pbft-request', request, relay };
    this.counters.frames['pbft-request'] = (this.counters.frames['pbft-request'] ?? 0) + targets.length;
    this.bus.batch(() => {
      for (const t of targets) this.bus.send(t, body);
    });
  }
}
