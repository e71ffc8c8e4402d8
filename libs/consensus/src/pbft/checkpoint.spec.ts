import { batchDigest, signingPayload } from './codec';
import { PbftHarness } from './testing/harness';
import type { Checkpoint, PbftMessage, PrePrepare, Prepare } from './types';

describe('PBFT checkpoints, water marks and authentication', () => {
  it('a checkpoint becomes stable at 2f+1 matching CHECKPOINTs and the log below it is collected', () => {
    const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
    for (let i = 0; i < 5; i++) h.propose('r0', h.request('client', `c${i}`));
    h.deliver();
    for (const id of h.ids) {
      const s = h.replica(id).status();
      expect(s.lastExecuted).toBe(5);
      expect(s.stableCheckpoint).toBe(4);
      expect(s.lowWaterMark).toBe(4);
      expect(s.highWaterMark).toBe(8);
      // Only seq 5 is left in the log.
      expect(s.logSize).toBe(1);
      expect(h.storage.get(id)!.entryCount).toBe(1);
      expect(h.storage.get(id)!.load().stableCheckpoint!.seq).toBe(4);
      expect(h.storage.get(id)!.load().stableCheckpoint!.proof.length).toBeGreaterThanOrEqual(3);
    }
    // Every correct replica signed the same state digest at seq 4.
    const digests = new Set(h.sent.filter((m) => m.msg.type === 'Checkpoint' && (m.msg as Checkpoint).seq === 4).map((m) => (m.msg as Checkpoint).digest));
    expect(digests.size).toBe(1);
  });

  it('a checkpoint is not stable with only 2f matching CHECKPOINTs', () => {
    const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
    // r3's and r2's checkpoints never reach r0: r0 sees its own and r1's.
    h.filter = (m) => !(m.msg.type === 'Checkpoint' && m.to === 'r0' && (m.from === 'r2' || m.from === 'r3'));
    for (let i = 0; i < 2; i++) h.propose('r0', h.request('client', `c${i}`));
    h.deliver();
    expect(h.replica('r0').status().lastExecuted).toBe(2);
    expect(h.replica('r0').status().stableCheckpoint).toBe(0);
    expect(h.replica('r1').status().stableCheckpoint).toBe(2);
  });

  it('the primary stops at the high water mark until a checkpoint is stable', () => {
    const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
    h.filter = (m) => m.msg.type !== 'Checkpoint';
    for (let i = 0; i < 6; i++) h.propose('r0', h.request('client', `w${i}`));
    h.deliver();
    // Seqs 1..4 fit in (0, 4]; the rest wait.
    expect(h.replica('r1').status().lastExecuted).toBe(4);
    h.filter = null;
    h.tick(6);
    for (const id of h.ids) expect(h.replica(id).status().lastExecuted).toBe(6);
  });

  it('drops pre-prepares outside the water marks', () => {
    const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4 });
    const crypto = h.keyring.cryptoFor('r0');
    const requests = [h.request('client', 'far')];
    const body: Omit<PrePrepare, 'sig'> = { type: 'PrePrepare', from: 'r0', to: null, view: 0, seq: 5, digest: batchDigest(requests), requests };
    const pp = { ...body, sig: crypto.sign(signingPayload(body as PrePrepare)) } as PrePrepare;
    h.replica('r1').step(pp);
    expect(h.replica('r1').status().dropped['out-of-window']).toBe(1);
    const zero = { ...body, seq: 0 } as PrePrepare;
    h.replica('r1').step({ ...zero, sig: crypto.sign(signingPayload(zero)) });
    expect(h.replica('r1').status().dropped['out-of-window']).toBe(2);
    expect(h.replica('r1').status().logSize).toBe(0);
  });

  it('drops and counts forged signatures, non-members, wrong digests and pre-prepares from a backup', () => {
    const h = new PbftHarness();
    const r1 = h.replica('r1');
    const requests = [h.request('client', 'x')];
    const body: Omit<PrePrepare, 'sig'> = { type: 'PrePrepare', from: 'r0', to: null, view: 0, seq: 1, digest: batchDigest(requests), requests };
    // Signed by r2 but claiming to be r0.
    r1.step({ ...body, sig: h.keyring.cryptoFor('r2').sign(signingPayload(body as PrePrepare)) } as PrePrepare);
    // From outside the cluster.
    const stranger = { ...body, from: 'mallory' } as PrePrepare;
    r1.step({ ...stranger, sig: new Uint8Array(32) });
    // A correct signature over a digest that does not match the batch.
    const wrong = { ...body, digest: batchDigest([]) } as PrePrepare;
    r1.step({ ...wrong, sig: h.keyring.cryptoFor('r0').sign(signingPayload(wrong)) });
    // A pre-prepare signed by a backup.
    const fromBackup = { ...body, from: 'r2' } as PrePrepare;
    r1.step({ ...fromBackup, sig: h.keyring.cryptoFor('r2').sign(signingPayload(fromBackup)) });
    // A request whose client signature is bad.
    const badReq = [{ ...requests[0], sig: new Uint8Array(32) }];
    const withBadReq = { ...body, requests: badReq, digest: batchDigest(badReq) } as PrePrepare;
    r1.step({ ...withBadReq, sig: h.keyring.cryptoFor('r0').sign(signingPayload(withBadReq)) });
    const d = r1.status().dropped;
    expect(d['bad-signature']).toBe(1);
    expect(d['non-member']).toBe(1);
    expect(d['digest-mismatch']).toBe(1);
    expect(d['not-primary']).toBe(1);
    expect(d['bad-request']).toBe(1);
    expect(r1.status().logSize).toBe(0);
    expect(r1.hasReady()).toBe(false);
  });

  it('a forged prepare does not count toward prepared', () => {
    const h = new PbftHarness();
    // r2 and r3 prepares to r1 are lost; a forged "r3" prepare signed by r2 arrives instead.
    h.filter = (m) => !(m.msg.type === 'Prepare' && m.to === 'r1' && (m.from === 'r2' || m.from === 'r3'));
    h.propose('r0', h.request('client', 'p'));
    h.deliver();
    const pp = h.sent.find((m) => m.msg.type === 'PrePrepare')!.msg as PrePrepare;
    const forged: Omit<Prepare, 'sig'> = { type: 'Prepare', from: 'r3', to: 'r1', view: 0, seq: 1, digest: pp.digest };
    h.replica('r1').step({ ...forged, sig: h.keyring.cryptoFor('r2').sign(signingPayload(forged as PbftMessage)) } as Prepare);
    h.collect('r1');
    expect(h.replica('r1').status().dropped['bad-signature']).toBe(1);
    expect(h.sent.some((m) => m.from === 'r1' && m.msg.type === 'Commit')).toBe(false);
  });

  it('drops malformed messages', () => {
    const h = new PbftHarness();
    h.replica('r1').step({ type: 'Prepare', from: 'r2', to: null, view: -1, seq: 'x', digest: 3, sig: 'no' } as unknown as PbftMessage);
    h.replica('r1').step({ type: 'Nonsense' } as unknown as PbftMessage);
    expect(h.replica('r1').status().dropped['malformed']).toBe(2);
  });
});
