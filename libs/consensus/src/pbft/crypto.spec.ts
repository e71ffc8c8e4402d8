import { generateKeyPairSync } from 'node:crypto';
import { acceptReplies, ReplyQuorum, signRequest, verifyReply } from './client';
import { replyPayload, requestPayload, signingPayload } from './codec';
import { ed25519Crypto, hmacTestKeyring } from './crypto';
import type { Prepare, Reply } from './types';

function keyPair(): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { priv: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, pub: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

describe('PBFT authentication', () => {
  it('ed25519Crypto signs canonical payloads that peers verify, and rejects tampering and impostors', () => {
    const a = keyPair();
    const b = keyPair();
    const pubs = { r0: a.pub, r1: b.pub };
    const r0 = ed25519Crypto(a.priv, pubs);
    const r1 = ed25519Crypto(b.priv, pubs);
    const body: Omit<Prepare, 'sig'> = { type: 'Prepare', from: 'r0', to: null, view: 2, seq: 7, digest: 'ab' };
    const sig = r0.sign(signingPayload(body as Prepare));
    expect(sig.length).toBe(64);
    expect(r1.verify('r0', signingPayload(body as Prepare), sig)).toBe(true);
    // `to` is routing, not content.
    expect(r1.verify('r0', signingPayload({ ...body, to: 'r1' } as Prepare), sig)).toBe(true);
    expect(r1.verify('r0', signingPayload({ ...body, seq: 8 } as Prepare), sig)).toBe(false);
    expect(r1.verify('r1', signingPayload(body as Prepare), sig)).toBe(false);
    expect(r1.verify('nobody', signingPayload(body as Prepare), sig)).toBe(false);
    expect(r1.verify('r0', signingPayload(body as Prepare), new Uint8Array(3))).toBe(false);
  });

  it('the canonical encoding separates fields (no two messages share a payload)', () => {
    const a = signingPayload({ type: 'Prepare', from: 'r1', to: null, view: 1, seq: 23, digest: 'd', sig: new Uint8Array() });
    const b = signingPayload({ type: 'Prepare', from: 'r1', to: null, view: 12, seq: 3, digest: 'd', sig: new Uint8Array() });
    const c = signingPayload({ type: 'Commit', from: 'r1', to: null, view: 1, seq: 23, digest: 'd', sig: new Uint8Array() });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    const r1 = requestPayload({ client: 'ab', id: 'c', ts: 1, op: new Uint8Array([1]) });
    const r2 = requestPayload({ client: 'a', id: 'bc', ts: 1, op: new Uint8Array([1]) });
    expect(Buffer.from(r1).equals(Buffer.from(r2))).toBe(false);
  });

  it('the HMAC test keyring lets a signer sign only as itself', () => {
    const ring = hmacTestKeyring(['r0', 'r1', 'client'], 7);
    const p = new Uint8Array([1, 2, 3]);
    const sig = ring.cryptoFor('r0').sign(p);
    expect(ring.cryptoFor('r1').verify('r0', p, sig)).toBe(true);
    expect(ring.cryptoFor('r1').verify('r1', p, sig)).toBe(false);
    expect(ring.cryptoFor('r1').verify('r0', new Uint8Array([1, 2, 4]), sig)).toBe(false);
    // Another seed, other keys.
    expect(hmacTestKeyring(['r0'], 8).cryptoFor('r0').verify('r0', p, sig)).toBe(false);
  });
});

describe('PBFT client acceptance', () => {
  const ring = hmacTestKeyring(['r0', 'r1', 'r2', 'r3', 'gw'], 3);
  const replicas = ['r0', 'r1', 'r2', 'r3'];
  const reply = (from: string, result: string, id = 'q1', to = 'gw'): Reply => {
    const body = { type: 'Reply' as const, from, to, view: 0, id, result: new TextEncoder().encode(result) };
    return { ...body, sig: ring.cryptoFor(from).sign(replyPayload(body)) };
  };
  const verify = (r: Reply) => verifyReply(ring.cryptoFor('gw'), r);

  it('accepts a result only on f+1 matching replies from distinct replicas', () => {
    const q = new ReplyQuorum(replicas, 'gw', verify);
    expect(q.add(reply('r0', 'A'))).toBeNull();
    expect(q.add(reply('r0', 'A'))).toBeNull(); // same replica twice does not count
    expect(q.add(reply('r1', 'B'))).toBeNull(); // a different result does not match
    const ok = q.add(reply('r2', 'A'));
    expect(ok).not.toBeNull();
    expect(new TextDecoder().decode(ok!.result)).toBe('A');
    expect(ok!.replicas.sort()).toEqual(['r0', 'r2']);
    expect(q.add(reply('r3', 'A'))).toBeNull(); // accepted once
  });

  it('ignores forged replies, non-members and replies for another client', () => {
    const q = new ReplyQuorum(replicas, 'gw', verify);
    const forged = { ...reply('r1', 'X'), from: 'r2' };
    expect(q.add(reply('r1', 'X'))).toBeNull();
    expect(q.add(forged)).toBeNull();
    expect(q.add({ ...reply('r3', 'X'), from: 'r9' })).toBeNull();
    expect(q.add(reply('r3', 'X', 'q1', 'other'))).toBeNull();
    expect(q.result('q1')).toBeUndefined();
    expect(q.add(reply('r3', 'X'))).not.toBeNull();
  });

  it('signRequest produces requests the replicas verify; acceptReplies is the stateless form', () => {
    const req = signRequest(ring.cryptoFor('gw'), { client: 'gw', id: 'i', ts: 5, op: new Uint8Array([9]) });
    expect(ring.cryptoFor('r0').verify('gw', requestPayload(req), req.sig)).toBe(true);
    expect(acceptReplies([reply('r0', 'A'), reply('r0', 'A')], replicas)).toBeNull();
    expect(new TextDecoder().decode(acceptReplies([reply('r0', 'A'), reply('r1', 'B'), reply('r3', 'A')], replicas)!)).toBe('A');
  });
});
