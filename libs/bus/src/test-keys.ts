import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { BusKeys } from './auth';

/**
 * In-memory bus keys for tests and benches (real processes load theirs from KEYS_DIR): one X25519
 * pair per principal; `keys(principal)` gives that principal's view (its private key, all public ones).
 */
export function testBusKeys(principals: string[]): (principal: string) => BusKeys {
  const pairs = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();
  for (const p of new Set(principals)) pairs.set(p, generateKeyPairSync('x25519'));
  const publicKeys = Object.fromEntries([...pairs].map(([p, k]) => [p, k.publicKey]));
  return (principal) => {
    const pair = pairs.get(principal);
    if (!pair) throw new Error(`testBusKeys: no keys for ${principal}`);
    return { privateKey: pair.privateKey, publicKeys };
  };
}
