import type { DurableStore } from '@app/storage';
import type { NodeConfig } from '../config/node-config';
import type { ReplicaRuntime, RuntimeIo } from './runtime';

/** The PBFT runtime arrives with its issue; until then PBFT mode refuses to start. */
export function createPbftRuntime(_cfg: NodeConfig, _store: DurableStore, _io: RuntimeIo): ReplicaRuntime {
  throw new Error('PROTOCOL=pbft is not available in this build');
}
