import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PBFT_ADMIN_ID (index.ts), here without importing the barrel: a signer, not a bus principal. */
const ADMIN_SIGNER = 'admin';

/**
 * Key files, two pairs per principal (each replica, and `gateway` for every gateway and client):
 * - `<id>.key` / `<id>.pub`: Ed25519, PBFT's signatures;
 * - `<id>.bus.key` / `<id>.bus.pub`: X25519, the bus's frame MACs (libs/bus/src/auth.ts).
 * `admin` (PBFT's reconfiguration signer) has the Ed25519 pair only: it never speaks on the bus, its
 * signed requests travel in a gateway's frames.
 * Private keys are PKCS#8 PEM (mode 0600), public keys SPKI PEM. The launcher (or compose's key
 * job) creates them once; every process loads its own private keys and everyone's public keys.
 */
export function ensureKeys(dir: string, ids: string[]): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = (id: string, suffix: string, type: 'ed25519' | 'x25519') => {
    if (existsSync(join(dir, `${id}${suffix}.key`)) && existsSync(join(dir, `${id}${suffix}.pub`))) return;
    const { privateKey, publicKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519');
    writeFileSync(join(dir, `${id}${suffix}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, `${id}${suffix}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  };
  for (const id of ids) {
    pair(id, '', 'ed25519');
    if (id !== ADMIN_SIGNER) pair(id, '.bus', 'x25519');
  }
}

/** A key file is missing or unreadable: the process cannot take part and refuses to start. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

function readKeyFile(dir: string, file: string, what: string): string {
  const p = join(dir, file);
  if (!existsSync(p)) throw new KeyFileError(`${what} key file ${p} is missing (the launcher and compose's keys job create them: keygen DIR ID...)`);
  return readFileSync(p, 'utf8');
}

export interface KeySet {
  privateKeyPem: string;
  publicKeys: Record<string, string>;
}

/** PBFT's Ed25519 keys: `self`'s private key and the public keys of `ids`. */
export function loadKeys(dir: string, self: string, ids: string[]): KeySet {
  return {
    privateKeyPem: readKeyFile(dir, `${self}.key`, 'PBFT'),
    publicKeys: Object.fromEntries(ids.map((id) => [id, readKeyFile(dir, `${id}.pub`, 'PBFT')])),
  };
}

/** The bus's X25519 keys: `self`'s private key and the public keys of `ids` (shape of libs/bus BusKeys). */
export function loadBusKeys(dir: string, self: string, ids: string[]): { privateKey: KeyObject; publicKeys: Record<string, KeyObject> } {
  const parse = <T>(f: () => T, file: string): T => {
    try {
      return f();
    } catch (err) {
      throw new KeyFileError(`bus key file ${join(dir, file)} is not a valid key: ${(err as Error).message}`);
    }
  };
  const privateFile = `${self}.bus.key`;
  const privatePem = readKeyFile(dir, privateFile, 'bus');
  return {
    privateKey: parse(() => createPrivateKey(privatePem), privateFile),
    publicKeys: Object.fromEntries(
      ids.map((id) => {
        const file = `${id}.bus.pub`;
        const pem = readKeyFile(dir, file, 'bus');
        return [id, parse(() => createPublicKey(pem), file)];
      }),
    ),
  };
}
