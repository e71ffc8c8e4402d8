import { createHash, createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { PbftCrypto } from './types';

/**
 * Ed25519 signatures from node:crypto. `publicKeysByReplica` maps every signer this replica must
 * check — the other replicas and the clients (the gateway) — to its PEM public key.
 */
export function ed25519Crypto(privateKeyPem: string, publicKeysByReplica: Record<string, string>): PbftCrypto {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKeys = new Map<string, KeyObject>();
  for (const [id, pem] of Object.entries(publicKeysByReplica)) publicKeys.set(id, createPublicKey(pem));
  return {
    sign: (payload) => new Uint8Array(sign(null, payload, privateKey)),
    verify: (signer, payload, sig) => {
      const key = publicKeys.get(signer);
      if (key === undefined || sig.length !== 64) return false;
      try {
        return verify(null, payload, key, sig);
      } catch {
        return false;
      }
    },
  };
}

/**
 * A fast deterministic stand-in for the simulator and unit tests: HMAC-SHA256 with one secret
 * per signer, derived from `seed`. Each signer's code gets only `cryptoFor(itself)`, whose sign
 * uses its own secret; verification goes through the keyring. Not a signature scheme for
 * production (any holder of the keyring could sign as anyone).
 */
export interface TestKeyring {
  cryptoFor(signer: string): PbftCrypto;
}

export function hmacTestKeyring(signers: string[], seed: string | number): TestKeyring {
  const secrets = new Map<string, Buffer>();
  for (const s of signers) secrets.set(s, createHash('sha256').update(`pbft-test-key:${seed}:${s}`).digest());
  const mac = (secret: Buffer, payload: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', secret).update(payload).digest());
  const verifyAs = (signer: string, payload: Uint8Array, sig: Uint8Array): boolean => {
    const secret = secrets.get(signer);
    if (secret === undefined || sig.length !== 32) return false;
    return timingSafeEqual(mac(secret, payload), sig);
  };
  return {
    cryptoFor(signer: string): PbftCrypto {
      const secret = secrets.get(signer);
      if (secret === undefined) throw new Error(`hmacTestKeyring: unknown signer ${signer}`);
      return { sign: (payload) => mac(secret, payload), verify: verifyAs };
    },
  };
}
