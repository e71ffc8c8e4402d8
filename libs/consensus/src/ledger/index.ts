/**
 * The verifiable ledger: the committed log as a hash chain (block.ts), the chain a replica keeps as
 * it applies (chain.ts), its recheck against storage (recheck.ts), the head inside Raft snapshots
 * (snapshot.ts) and the client's check of PBFT blocks against checkpoint certificates
 * (certificate.ts). Pure: no I/O, no clock.
 */
export * from './block';
export * from './chain';
export * from './recheck';
export * from './snapshot';
export * from './types';
export { verifyPbftLedger, certificateProblem, type SignatureCheck, type LedgerVerification } from './certificate';
