import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_PRINCIPAL, type BusOptions } from '@app/bus';
import { ensureKeys, loadBusKeys } from '@app/wire';

/** The replica ids that have keys in testKeysDir(); any other endpoint speaks as `gateway`. */
export const TEST_NODES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];

let dir: string | undefined;

/**
 * A KEYS_DIR with real key files (bus X25519 and PBFT Ed25519) for n1..n7 and `gateway`, as the
 * launcher makes them: what a gateway, a replica or a fake replica of a spec loads its keys from.
 *
 * One per test file, made on first use and removed after the file's last test. (Not one per jest
 * worker process: jest gives each test file a module registry and a `process` object of its own,
 * whose 'exit' never fires, so nothing set up here could be cleaned up at the worker's exit.
 * Making the keys takes a few milliseconds.)
 */
export function testKeysDir(): string {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'synod-test-keys-'));
    ensureKeys(dir, [...TEST_NODES, CLIENT_PRINCIPAL]);
  }
  return dir;
}

/** The bus auth options of endpoint `self` (a replica id of TEST_NODES, or any gateway/client name) from testKeysDir(). */
export function testBusAuth(self: string, replicas: string[] = TEST_NODES): BusOptions['auth'] {
  const principal = replicas.includes(self) ? self : CLIENT_PRINCIPAL;
  return { keys: loadBusKeys(testKeysDir(), principal, [...TEST_NODES, CLIENT_PRINCIPAL]), replicas };
}

// Registered when a spec file first imports this module (hooks must be defined before the tests run).
if (typeof afterAll === 'function') {
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
}
