import { batchDigest } from './codec';
import { validCommitCertificate, validPreparedCertificate, type CertificateContext } from './certificates';
import { quorums } from './quorum';
import type { Commit, PbftMessage, Prepare, PrePrepare } from './types';

const REPLICAS = ['n1', 'n2', 'n3', 'n4'];

/** A context whose signatures are "valid" unless the sig is empty, counting every verify. */
function context(): CertificateContext & { verifies: number } {
  const ctx = {
    verifies: 0,
    q: quorums(4),
    checkpointInterval: 10,
    logWindow: 40,
    isMember: (id: string) => REPLICAS.includes(id),
    primaryOf: (view: number) => REPLICAS[view % 4],
    verify: (m: PbftMessage) => {
      ctx.verifies++;
      return m.sig.length > 0;
    },
  };
  return ctx;
}

const digest = batchDigest([]);
const sig = new Uint8Array([1]);
const prePrepare: PrePrepare = { type: 'PrePrepare', from: 'n1', to: null, view: 0, seq: 1, digest, requests: [], sig };
const prepare = (from: string, s = sig): Prepare => ({ type: 'Prepare', from, to: null, view: 0, seq: 1, digest, sig: s });
const commit = (from: string, s = sig): Commit => ({ type: 'Commit', from, to: null, view: 0, seq: 1, digest, sig: s });

describe('PBFT certificates: bounded work (issue 10)', () => {
  it('accepts a certificate with the quorum, and stops verifying once the quorum is reached', () => {
    const ctx = context();
    expect(validPreparedCertificate(ctx, { prePrepare, prepares: [prepare('n2'), prepare('n3'), prepare('n4')] })).toBe(true);
    expect(ctx.verifies).toBe(1 + 2); // the pre-prepare, then 2f = 2 prepares
  });

  it('refuses a list longer than n without verifying anything in it', () => {
    const ctx = context();
    const flood = Array.from({ length: 100_000 }, (_, i) => prepare(REPLICAS[1 + (i % 3)], new Uint8Array()));
    expect(validPreparedCertificate(ctx, { prePrepare, prepares: flood })).toBe(false);
    expect(ctx.verifies).toBe(1); // the pre-prepare only
  });

  it('verifies each member once: forged copies of a member count once, and not again after a failure', () => {
    const ctx = context();
    const forged = [commit('n2', new Uint8Array()), commit('n2'), commit('n3', new Uint8Array()), commit('n3')];
    expect(validCommitCertificate(ctx, { view: 0, seq: 1, digest, requests: [], commits: forged })).toBe(false);
    expect(ctx.verifies).toBe(2);
  });
});
