import { encodeRequest } from '../../kv';
import type { KeyCommand, KvResult } from '../../kv/types';
import type { NodeId, ReadFailure, ReadState } from '../../raft/types';
import type { Rng } from '../../util/rng';
import { keyCommandOf, SimHistory } from '../history';
import type { RuntimeFault } from './canaries';
import { type AckedWrite, SimClient } from './clients';
import type { Host } from './host';
import { type RaftInvariants, sameResult } from './invariants';

export type ClientEvent = { kind: 'client-send' | 'client-timeout' | 'client-next'; client: number; attempt: number };

/** What the clients need from the cluster. */
export interface ClientEnv {
  now(): number;
  /** True once the schedule healed: no new operations, pending ones must finish. */
  stopped(): boolean;
  ids: readonly NodeId[];
  clientTimeout: number;
  checker: RaftInvariants;
  runtimeFault: RuntimeFault | undefined;
  host(id: NodeId): Host;
  /** Check the replica and run its Ready work after an input. */
  afterInput(h: Host): void;
  at(time: number, ev: ClientEvent): void;
  /** Null when not tracing. */
  note: ((line: string) => void) | null;
}

/** What a runtime that acknowledges on append would answer (it has no result yet). */
function fakeResult(cmd: KeyCommand, index: number): KvResult {
  if (cmd.op === 'put') return { op: 'put', key: cmd.key, value: cmd.value, revision: index };
  if (cmd.op === 'delete') return { op: 'delete', key: cmd.key, deleted: true, revision: index };
  return { op: 'cas', key: cmd.key, succeeded: true, value: cmd.value, revision: index };
}

/**
 * Drives the clients the way a gateway would: each operation goes to the replica believed to
 * lead, follows not-leader hints, and after a timeout is retried elsewhere with the same request
 * ids. Checks what clients see: every answer is the request's first result, and every read
 * reflects every write acknowledged before the read began.
 */
export class ClientDriver {
  readonly clients: SimClient[];
  readonly acked: AckedWrite[] = [];
  /** Every operation and what its client saw, for the linearizability checker at the end. */
  readonly history = new SimHistory();
  reads = 0;
  /** The highest log index of any acknowledged write so far. */
  private maxAckedIndex = 0;
  private readonly readOwner = new Map<string, { client: number; seq: number }>();

  constructor(
    private readonly env: ClientEnv,
    private readonly rng: Rng,
    clientRngs: Rng[],
    keys: number,
    readShare: number,
  ) {
    this.clients = clientRngs.map((r, i) => new SimClient(`c${i + 1}`, r, keys, readShare));
  }

  start(): void {
    this.clients.forEach((_, i) => this.env.at(this.rng.next() * 3, { kind: 'client-next', client: i, attempt: 0 }));
  }

  handle(ev: ClientEvent): void {
    if (ev.kind === 'client-next') return this.invoke(ev.client);
    if (ev.kind === 'client-send') return this.send(ev.client, ev.attempt);
    const op = this.clients[ev.client].op;
    if (op !== null && op.attempt === ev.attempt) {
      this.env.note?.(`${this.clients[ev.client].id}: no answer from ${op.target}, retrying`);
      this.retry(ev.client, null, 0);
    }
  }

  idle(): boolean {
    return this.clients.every((c) => c.op === null);
  }

  /** The operations still waiting, for a liveness report. */
  pending(): string {
    return this.clients
      .filter((c) => c.op !== null)
      .map((c) => `${c.id}:${c.op!.readKey === null ? [...c.op!.unanswered].join(',') : `get ${c.op!.readKey}`}@${c.op!.target}`)
      .join(' ');
  }

  private randomNode(): NodeId {
    return this.env.ids[this.rng.int(0, this.env.ids.length - 1)];
  }

  private invoke(ci: number): void {
    if (this.env.stopped()) return;
    const c = this.clients[ci];
    const op = c.nextOp(this.env.now());
    op.floor = this.maxAckedIndex;
    op.target = c.leaderGuess ?? this.randomNode();
    c.op = op;
    if (op.readKey === null) for (const q of op.reqs) this.history.invokeWrite(q.id, keyCommandOf(q.cmd), op.invokedAt);
    else this.history.invokeRead(`${c.id}/${op.seq}`, op.readKey, op.invokedAt);
    if (this.env.note) {
      const what = op.readKey === null ? op.reqs.map((q) => `${q.id} ${JSON.stringify(q.cmd)}`).join(', ') : `get ${op.readKey} (floor ${op.floor})`;
      this.env.note(`${c.id}: invoke ${what}`);
    }
    this.send(ci, 0);
  }

  private send(ci: number, attempt: number): void {
    const env = this.env;
    const c = this.clients[ci];
    const op = c.op;
    if (op === null || op.attempt !== attempt) return;
    env.at(env.now() + env.clientTimeout, { kind: 'client-timeout', client: ci, attempt });
    const h = env.host(op.target);
    if (!h.alive) return;
    if (op.readKey === null) {
      // A retry carries the same request ids (exactly-once) and its own timestamp.
      const ts = Math.floor(env.now() * 10);
      const batch = op.reqs.filter((q) => op.unanswered.has(q.id)).map((q) => ({ ...q, ts }));
      const r = h.core.propose(batch.map(encodeRequest));
      env.note?.(`${c.id}: propose ${batch.map((q) => q.id).join(',')} at ${h.id} (attempt ${attempt}): ${r.ok ? `index ${r.index}` : r.reason}`);
      if (r.ok) {
        for (const q of batch) h.waiters.set(q.id, ci);
        c.leaderGuess = h.id;
        if (env.runtimeFault === 'ack-on-append') {
          batch.forEach((q, k) => this.answer(ci, q.id, r.index + k, fakeResult(keyCommandOf(q.cmd), r.index + k), h.id, false));
        }
      }
      env.afterInput(h);
      if (!r.ok) this.retry(ci, r.leaderHint, r.reason === 'transferring' ? 2 : 0.5);
      return;
    }
    const ctx = `${c.id}/${op.seq}/${attempt}`;
    this.readOwner.set(ctx, { client: ci, seq: op.seq });
    env.note?.(`${c.id}: readIndex ${ctx} at ${h.id}`);
    if (env.runtimeFault === 'stale-read') {
      h.reads.push({ ctx, index: h.applied });
      this.serveReads(h);
      return;
    }
    h.core.readIndex(ctx);
    env.afterInput(h);
  }

  /** Next attempt, at the hinted leader when there is one (else anywhere), after `delay` ticks. */
  private retry(ci: number, hint: NodeId | null, delay: number): void {
    const c = this.clients[ci];
    const op = c.op!;
    c.leaderGuess = hint;
    op.attempt++;
    op.target = hint ?? this.randomNode();
    const wait = hint === null ? delay + 1 + this.rng.next() * 2 : delay;
    this.env.at(this.env.now() + wait, { kind: 'client-send', client: ci, attempt: op.attempt });
  }

  private finish(ci: number): void {
    this.clients[ci].op = null;
    this.env.at(this.env.now() + this.rng.next() * 3, { kind: 'client-next', client: ci, attempt: 0 });
  }

  /** Replica `h` applied request `reqId` at `index`: answer the client that proposed it there. */
  applied(h: Host, reqId: string, index: number, result: KvResult): void {
    const ci = h.waiters.get(reqId);
    if (ci === undefined) return;
    h.waiters.delete(reqId);
    this.answer(ci, reqId, index, result, h.id, true);
  }

  private answer(ci: number, reqId: string, index: number, result: KvResult, via: NodeId, check: boolean): void {
    const c = this.clients[ci];
    const op = c.op;
    if (op === null || !op.unanswered.has(reqId)) return;
    const first = this.env.checker.model.first(reqId);
    if (check && !sameResult(first, result)) {
      this.env.checker.fail('exactly-once', [via], `${reqId} answered ${JSON.stringify(result)}, its first result was ${JSON.stringify(first)}`);
    }
    this.acked.push({ client: c.id, reqId, index, result, at: this.env.now() });
    this.history.wrote(reqId, result, this.env.now());
    if (index > this.maxAckedIndex) this.maxAckedIndex = index;
    this.env.note?.(`${c.id}: ${reqId} acknowledged by ${via} at index ${index}: ${JSON.stringify(result)}`);
    c.sawWrite(result);
    op.unanswered.delete(reqId);
    if (op.unanswered.size === 0) this.finish(ci);
  }

  readStates(h: Host, rss: ReadState[]): void {
    for (const rs of rss) h.reads.push(rs);
    if (h.reads.length > 0) this.serveReads(h);
  }

  readFailed(rf: ReadFailure): void {
    const owner = this.readOwner.get(rf.ctx);
    this.readOwner.delete(rf.ctx);
    if (owner === undefined) return;
    const c = this.clients[owner.client];
    const op = c.op;
    // Only the current attempt's failure matters; an older attempt was already given up.
    if (op === null || `${c.id}/${op.seq}/${op.attempt}` !== rf.ctx) return;
    this.retry(owner.client, rf.leaderHint, 0.5);
  }

  /** Serve ReadIndex answers whose index is applied; each must see every write acknowledged before the read began. */
  serveReads(h: Host): void {
    const checker = this.env.checker;
    const waiting: ReadState[] = [];
    for (const rs of h.reads) {
      if (rs.index > h.applied) {
        waiting.push(rs);
        continue;
      }
      const owner = this.readOwner.get(rs.ctx);
      this.readOwner.delete(rs.ctx);
      if (owner === undefined) continue;
      const c = this.clients[owner.client];
      const op = c.op;
      if (op === null || op.seq !== owner.seq || op.readKey === null) continue;
      if (rs.index < op.floor) {
        checker.fail(
          'linearizable-read',
          [h.id],
          `read ${rs.ctx} (invoked at ${op.invokedAt.toFixed(2)}) got read index ${rs.index}, but a write at index ${op.floor} was acknowledged before it began`,
        );
      }
      const value = h.kv.get(op.readKey)?.value ?? null;
      const expected = checker.model.valueAt(op.readKey, h.applied);
      if (value !== expected) {
        checker.fail('linearizable-read', [h.id], `read ${rs.ctx} of ${op.readKey} at applied ${h.applied} returned ${value}, the log says ${expected}`);
      }
      this.reads++;
      this.history.read(`${c.id}/${op.seq}`, value, this.env.now());
      this.env.note?.(`${c.id}: read ${op.readKey}=${value} from ${h.id} (read index ${rs.index}, applied ${h.applied})`);
      c.sawRead(op.readKey, value);
      this.finish(owner.client);
    }
    h.reads = waiting;
  }
}
