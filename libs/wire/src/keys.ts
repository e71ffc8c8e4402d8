import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PBFT key files: `<dir>/<id>.key` (PKCS#8 PEM, private) and `<dir>/<id>.pub` (SPKI PEM) for every
 * replica and for the gateway's client identity. The launcher (or compose's key job) creates them
 * once; every process loads its own private key and everyone's public keys.
 */
export function ensureKeys(dir: string, ids: string[]): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const id of ids) {
    if (existsSync(join(dir, `${id}.key`)) && existsSync(join(dir, `${id}.pub`))) continue;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, `${id}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, `${id}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  }
}

export interface KeySet {
  privateKeyPem: string;
  publicKeys: Record<string, string>;
}

export function loadKeys(dir: string, self: string, ids: string[]): KeySet {
  const read = (file: string): string => {
    const p = join(dir, file);
    if (!existsSync(p)) throw new Error(`PBFT key file ${p} is missing (the launcher creates keys; see KEYS_DIR)`);
    return readFileSync(p, 'utf8');
  };
  return {
    privateKeyPem: read(`${self}.key`),
    publicKeys: Object.fromEntries(ids.map((id) => [id, read(`${id}.pub`)])),
  };
}
