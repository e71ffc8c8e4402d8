import { Packr } from 'msgpackr';
import { hmacTestKeyring, replyPayload, type Reply } from '@app/consensus/pbft';
import { PBFT_CLIENT_ID, pbftClientFor, type PbftOpResult, type PbftRequestBody } from '@app/wire';
import type { FramePort } from '../../bus/gateway-bus';
import type { LeaderSource } from '../raft/leader-source';
import { PbftClient } from './pbft-client';

const REPLICAS = ['n1', 'n2', 'n3', 'n4'];
const keyring = hmacTestKeyring([...REPLICAS, PBFT_CLIENT_ID], 'pbft-client-spec');
const packr = new Packr({ useRecords: false, moreTypes: false });

/** Records what the client sends; `answer` makes f+1 replicas reply to every request sent so far. */
class Replicas implements FramePort {
  readonly self = 'gw-test';
  readonly sent: PbftRequestBody[] = [];
  send(_to: string, body: unknown): void {
    this.sent.push(body as PbftRequestBody);
  }
  batch(fn: () => void): void {
    fn();
  }
  answer(client: PbftClient, repliers = ['n1', 'n2']): void {
    const ids = new Set(this.sent.map((b) => b.request.id));
    this.sent.length = 0;
    for (const id of ids) {
      const result = packr.pack([{ kind: 'write', result: { op: 'put', key: 'k', value: 'v', revision: 1 } } satisfies PbftOpResult]);
      for (const from of repliers) {
        const unsigned: Reply = { type: 'Reply', from, to: pbftClientFor('gw-test'), view: 0, id, result, sig: new Uint8Array() };
        client.onReply({ reply: { ...unsigned, sig: keyring.cryptoFor(from).sign(replyPayload(unsigned)) } });
      }
    }
  }
}

const view: LeaderSource = { leader: () => 'n1', aliveNodes: () => REPLICAS, isMember: () => true, quorumUnreachable: () => false, onLeader: () => undefined };
const turn = () => new Promise((r) => setImmediate(r));

function client(port: Replicas, requestTimeoutMs = 10_000): PbftClient {
  return new PbftClient(port, view, {
    replicas: REPLICAS,
    crypto: keyring.cryptoFor(PBFT_CLIENT_ID),
    requestTimeoutMs,
    attemptTimeoutMs: 5_000,
    maxBatch: 1,
    maxInflight: 8,
  });
}

describe('PbftClient reply tracking (issue 10: bounded)', () => {
  it('keeps nothing once requests are answered: 500 writes leave no entry', async () => {
    const port = new Replicas();
    const c = client(port);
    const done = Array.from({ length: 500 }, (_, i) => c.submit({ id: `w${i}`, ts: i, cmd: { op: 'put', key: `k${i}`, value: 'v' } }));
    while (c.stats().inFlight > 0) {
      await turn();
      port.answer(c);
    }
    await Promise.all(done);
    expect(c.trackedReplies()).toBe(0);
    // A straggler's reply to a finished request is counted, not kept.
    port.answer(c, ['n3']);
    c.close();
  });

  it('keeps nothing of requests that timed out, even with a reply short of f+1 for each', async () => {
    const port = new Replicas();
    const c = client(port, 50);
    const done = Array.from({ length: 20 }, (_, i) => c.submit({ id: `t${i}`, ts: i, cmd: { op: 'put', key: `k${i}`, value: 'v' } }).catch((e: Error) => e));
    for (let i = 0; i < 10; i++) {
      await turn();
      port.answer(c, ['n1']); // one reply: below f+1, tracked while outstanding
    }
    expect(c.trackedReplies()).toBeGreaterThan(0);
    const results = await Promise.all(done);
    expect(results.every((r) => r instanceof Error)).toBe(true);
    expect(c.trackedReplies()).toBe(0);
    c.close();
  });
});
