import { PbftHarness } from '../pbft/testing/harness';
import type { ExecutedBatch, PbftStableCheckpoint } from '../pbft/types';
import { pbftBlockHash } from './block';
import { verifyPbftLedger } from './certificate';
import type { LedgerCheckpointCertificate, PbftLedgerBlock } from './types';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function toBlock(b: ExecutedBatch): PbftLedgerBlock {
  return {
    index: b.seq,
    digest: b.digest,
    requests: b.requests.map((r) => ({ client: r.client, id: r.id, position: r.position, result: b64(r.result) })),
    prevHash: b.prevHash!,
    hash: b.hash!,
  };
}

function toCertificate(cp: PbftStableCheckpoint): LedgerCheckpointCertificate {
  return {
    seq: cp.seq,
    stateDigest: cp.ledger!.stateDigest,
    head: cp.ledger!.head,
    digest: cp.digest,
    proof: cp.proof.map((c) => ({ from: c.from, seq: c.seq, digest: c.digest, sig: b64(c.sig) })),
  };
}

/** Rehashes blocks from `from` on, as a forger who changed a block's content would. */
function rechain(blocks: PbftLedgerBlock[], from: number): void {
  for (let i = from; i < blocks.length; i++) {
    const b = blocks[i];
    if (i > 0) b.prevHash = blocks[i - 1].hash;
    b.hash = pbftBlockHash(b.prevHash, {
      seq: b.index,
      digest: b.digest,
      requests: b.requests.map((r) => ({ ...r, result: Buffer.from(r.result, 'base64') })),
    });
  }
}

describe('PBFT: the stable checkpoint certificate signs the ledger head', () => {
  const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
  for (let i = 0; i < 5; i++) h.propose('r0', h.request('client', `c${i}`));
  h.deliver();
  const check = (signer: string, payload: Uint8Array, sig: Uint8Array) => h.keyring.cryptoFor('r0').verify(signer, payload, sig);
  const blocks = () => h.executed.get('r1')!.map(toBlock);
  const cert = () => toCertificate(h.storage.get('r1')!.load().stableCheckpoint!);

  it('every correct replica has the same chain, and its checkpoint carries the head it signed', () => {
    const heads = h.ids.map((id) => h.executed.get(id)!.map((b) => b.hash));
    for (const hs of heads) expect(hs).toEqual(heads[0]);
    const cp = h.storage.get('r1')!.load().stableCheckpoint!;
    expect(cp.seq).toBe(4);
    expect(cp.ledger!.head).toBe(h.executed.get('r1')!.find((b) => b.seq === 4)!.hash);
  });

  it('a client checks the blocks up to the checkpoint against 2f+1 signatures', () => {
    expect(verifyPbftLedger(blocks(), [cert()], h.ids, check)).toEqual({ ok: true, certifiedThrough: 4 });
    // Blocks past the last certificate hold together but are not certified by it.
    expect(verifyPbftLedger(blocks().slice(4), [cert()], h.ids, check)).toEqual({ ok: true, certifiedThrough: null });
  });

  it('a tampered block fails: its own hash, or — rehashed — the certified head', () => {
    const bs = blocks();
    bs[1].requests[0].result = b64(Buffer.from('forged'));
    expect(verifyPbftLedger(bs, [cert()], h.ids, check)).toMatchObject({ ok: false, error: expect.stringMatching(/block 2 does not hash/) });
    rechain(bs, 1);
    expect(verifyPbftLedger(bs, [cert()], h.ids, check)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/block 4 is not the head that 2f\+1 replicas signed/),
    });
  });

  it('a certificate with a head it does not sign, or too few signatures, fails', () => {
    const c = cert();
    const forged = { ...c, head: blocks()[2].hash };
    expect(verifyPbftLedger(blocks(), [forged], h.ids, check)).toMatchObject({ ok: false, error: expect.stringMatching(/does not cover the head/) });
    const few = { ...c, proof: c.proof.slice(0, 2) };
    expect(verifyPbftLedger(blocks(), [few], h.ids, check)).toMatchObject({ ok: false, error: expect.stringMatching(/2 valid signatures, 3 needed/) });
    const badSig = { ...c, proof: c.proof.map((v, i) => (i === 0 ? { ...v, sig: b64(Buffer.alloc(32)) } : v)) };
    expect(verifyPbftLedger(blocks(), [badSig], h.ids, check).ok).toBe(c.proof.length > 3);
  });

  it('a restarted replica resumes the chain from its checkpoint and replays to the same head', () => {
    h.crash('r2');
    h.restart('r2');
    h.propose('r0', h.request('client', 'after'));
    h.deliver();
    const last = (id: string) => h.executed.get(id)!.at(-1)!;
    expect(last('r2').seq).toBe(6);
    expect(last('r2').hash).toBe(last('r1').hash);
  });
});
