export * from './types';
export { PbftReplica, EXECUTION_ERROR } from './replica';
export { signingPayload, requestPayload, replyPayload, requestDigest, batchDigest, checkpointDigest, requestKey, NULL_DIGEST } from './codec';
export { ed25519Crypto, fastTestKeyring, hmacTestKeyring, type TestKeyring } from './crypto';
export { signRequest, verifyReply, ReplyQuorum, acceptReplies, type AcceptedReply } from './client';
export {
  BYZANTINE_BEHAVIORS,
  createByzantine,
  isByzantineBehavior,
  type ByzantineBehavior,
  type ByzantineContext,
  type ByzantineFilter,
} from './byzantine';
export { quorums, type Quorums } from './quorum';
export { wellFormed, wellFormedRequest } from './validate';
