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

/**
 * A faster stand-in for the simulator's thousands of schedules: a keyed 64-bit hash in plain JS
 * (no native call per message). Not cryptographic at all — the simulated Byzantine code never
 * tries to invert it; what matters is that it cannot sign as another replica without its key.
 */
// Globals read once: under Jest's sandbox every lookup of Math, Uint8Array... is slow.
const imul = Math.imul;
const Bytes = Uint8Array;

export function fastTestKeyring(signers: string[], seed: string | number): TestKeyring {
  const keys = new Map<string, [number, number]>();
  for (const s of signers) {
    const d = createHash('sha256').update(`pbft-fast-key:${seed}:${s}`).digest();
    keys.set(s, [d.readUInt32LE(0), d.readUInt32LE(4)]);
  }
  const mac = (key: [number, number], p: Uint8Array): Uint8Array => {
    let a = key[0] ^ 0x811c9dc5;
    let b = key[1] ^ 0x01000193;
    for (let i = 0; i < p.length; i++) {
      a = imul(a ^ p[i], 0x01000193);
      b = imul(b ^ p[i] ^ (a >>> 13), 0x5bd1e995);
    }
    a = imul(a ^ (b >>> 15), 0x2c1b3c6d) ^ key[1];
    b = imul(b ^ (a >>> 16), 0x297a2d39) ^ key[0];
    const out = new Bytes(8);
    out[0] = a >>> 24;
    out[1] = a >>> 16;
    out[2] = a >>> 8;
    out[3] = a;
    out[4] = b >>> 24;
    out[5] = b >>> 16;
    out[6] = b >>> 8;
    out[7] = b;
    return out;
  };
  const verifyAs = (signer: string, payload: Uint8Array, sig: Uint8Array): boolean => {
    const key = keys.get(signer);
    if (key === undefined || sig.length !== 8) return false;
    const want = mac(key, payload);
    for (let i = 0; i < 8; i++) if (want[i] !== sig[i]) return false;
    return true;
  };
  return {
    cryptoFor(signer: string): PbftCrypto {
      const key = keys.get(signer);
      if (key === undefined) throw new Error(`fastTestKeyring: unknown signer ${signer}`);
      return { sign: (payload) => mac(key, payload), verify: verifyAs };
    },
  };
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
