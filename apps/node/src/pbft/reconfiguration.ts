import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PbftConfig } from '@app/consensus/pbft';
import { type KeySet, loadKeys, PBFT_ADMIN_ID } from '@app/wire';
import type { NodeConfig } from '../config/node-config';

/**
 * The signers a replica checks: its peers (every identity of NODES, since any of them may be in
 * some configuration: the reconfiguration request names ids only, so keys cannot travel with it),
 * the gateways, and the admin principal when its public key is there. Without `admin.pub` the
 * replica set is fixed for good (the core refuses every reconfiguration), which keeps key
 * directories from before reconfiguration working.
 */
export function loadPbftSigners(dir: string, self: string, principals: string[]): { keys: KeySet; admin: string | undefined } {
  const admin = existsSync(join(dir, `${PBFT_ADMIN_ID}.pub`)) ? PBFT_ADMIN_ID : undefined;
  return { keys: loadKeys(dir, self, admin === undefined ? principals : [...principals, admin]), admin };
}

/**
 * The configuration part of PbftConfig. Every replica is told the initial configuration (VOTERS,
 * epoch 0 from sequence number 1). A replica started to join (JOIN=true) trusts the configuration in
 * force when it was added (PBFT_CONFIGURATION) and catches up by certified state transfer; without
 * it, it trusts the initial one and walks the certified chain of changes from there, which works as
 * long as a replica of the initial configuration still serves state transfer.
 */
export function pbftConfigurationOf(cfg: NodeConfig, admin: string | undefined): Pick<PbftConfig, 'replicas' | 'admin' | 'configuration'> {
  return {
    replicas: cfg.voters,
    ...(admin !== undefined ? { admin } : {}),
    ...(cfg.join && cfg.pbftConfiguration !== null ? { configuration: cfg.pbftConfiguration } : {}),
  };
}
