import { randomUUID } from 'node:crypto';
import { encodeReconfiguration, type PbftCrypto, type Reply, signRequest, verifyReply } from '@app/consensus/pbft';
import { pbftAdminClientFor, type PbftRequestBody } from '@app/wire';
import type { FramePort } from '../bus/gateway-bus';
import type { PbftConfigurations } from '../cluster/pbft-configurations';
import { replyRule, ReplyTally } from '../consensus/pbft/reply-tally';

/** The replicas' decided answer to a reconfiguration request (f+1 matching replies). */
export type ReconfigurationOutcome = { ok: true; detail: string } | { ok: false; refusal: string };

/** No f+1 matching replies before the deadline: the request may still be executed. */
export class ReconfigurationTimeoutError extends Error {}

const dec = new TextDecoder();
/** The core's refusal text (libs/consensus/src/pbft/replica.ts decideReconfiguration). */
const REFUSED = 'error: reconfiguration refused: ';

/**
 * The admin principal as a PBFT client (libs/consensus/src/pbft/reconfiguration.ts): a request
 * whose op is the new replica set, signed with the admin key, sent to every replica of the
 * configuration in force (and of one decided next), retransmitted until f+1 matching replies
 * decide it. The reply quorum follows the configuration like the KV client's (reply-tally.ts).
 * One request at a time: the core refuses a second change while one is pending anyway.
 */
export class PbftAdminClient {
  readonly client: string;
  private lastTs = 0;
  private pending: { id: string; epoch: number; tally: ReplyTally; done: (o: ReconfigurationOutcome) => void } | null = null;

  constructor(
    private readonly bus: FramePort,
    private readonly crypto: PbftCrypto,
    private readonly configurations: () => PbftConfigurations,
    private readonly o: { attemptTimeoutMs: number; requestTimeoutMs: number },
  ) {
    this.client = pbftAdminClientFor(bus.self);
  }

  /** Asks for `replicas` as the new replica set; resolves with the replicas' decided answer. */
  async reconfigure(replicas: string[]): Promise<ReconfigurationOutcome> {
    if (this.pending !== null) throw new Error('a reconfiguration request is already outstanding at this gateway');
    const request = signRequest(this.crypto, {
      client: this.client,
      id: `reconfigure-${randomUUID()}`,
      ts: (this.lastTs = Math.max(Date.now(), this.lastTs + 1)),
      op: encodeReconfiguration(replicas),
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<ReconfigurationOutcome>((resolve, reject) => {
        this.pending = { id: request.id, epoch: this.configurations().current.epoch, tally: new ReplyTally(), done: resolve };
        const deadline = Date.now() + this.o.requestTimeoutMs;
        const attempt = (relay: boolean): void => {
          if (Date.now() >= deadline) {
            reject(new ReconfigurationTimeoutError(`no f+1 matching replies to ${request.id} within ${this.o.requestTimeoutMs} ms`));
            return;
          }
          const c = this.configurations();
          const body: PbftRequestBody = { t: 'pbft-request', request, relay };
          this.bus.batch(() => {
            for (const id of new Set([...c.current.replicas, ...(c.next?.replicas ?? [])])) this.bus.send(id, body);
          });
          timer = setTimeout(() => attempt(true), this.o.attemptTimeoutMs);
        };
        attempt(false);
      });
    } finally {
      clearTimeout(timer);
      this.pending = null;
    }
  }

  /** A reply on the admin's topic. */
  onReply(body: unknown): void {
    const reply = (body as { reply?: Reply } | null)?.reply;
    const p = this.pending;
    if (!reply || p === null || reply.to !== this.client || reply.id !== p.id) return;
    const rule = replyRule(this.configurations(), p.epoch);
    if (!rule.members.has(reply.from) || p.tally.has(reply.from) || !verifyReply(this.crypto, reply)) return;
    if (p.tally.add(reply, rule) === null) return;
    const text = dec.decode(reply.result);
    p.done(text.startsWith('ok:') ? { ok: true, detail: text } : { ok: false, refusal: text.startsWith(REFUSED) ? text.slice(REFUSED.length) : text });
  }
}
