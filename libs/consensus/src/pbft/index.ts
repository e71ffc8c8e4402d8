/**
 * PBFT (Castro & Liskov) as a pure state machine, for apps/node and apps/gateway.
 *
 * Replica runtime, per input (tick every T ms, step(msg) per bus message, propose(req) per request
 * from the gateway), then while hasReady(): rd = ready(); persist rd.stableCheckpoint (drop stored
 * entries at or below its seq), then rd.hardState + rd.newView + rd.entries atomically; publish
 * rd.messages (to = null: broadcast channel, else the replica's channel) and rd.replies (the
 * client's channel); advance(rd). On start or revival: new PbftReplica(config with a fresh app,
 * what storage holds) — emptyPbftState() the first time.
 *
 * Gateway: signRequest() with its own key, send to the primary (status().primary / the view in
 * replies), broadcast to every replica on timeout, accept on ReplyQuorum (f+1 matching).
 * Admin `byzantine` switch: createByzantine(behavior, ctx) filters a replica's Ready output.
 */
export * from './types';
export { PbftReplica, EXECUTION_ERROR, STALE_REQUEST } from './replica';
export { clientSigner, signingPayload, requestPayload, replyPayload, requestDigest, batchDigest, checkpointDigest, requestKey, NULL_DIGEST } from './codec';
export { ed25519Crypto, fastTestKeyring, hmacTestKeyring, type TestKeyring } from './crypto';
export { signRequest, verifyReply, ReplyQuorum, acceptReplies, matchingReplies, type AcceptedReply } from './client';
export { BYZANTINE_BEHAVIORS, createByzantine, isByzantineBehavior, type ByzantineBehavior, type ByzantineContext, type ByzantineFilter } from './byzantine';
export { quorums, type Quorums } from './quorum';
export { wellFormed, wellFormedRequest } from './validate';
export { encodeReconfiguration, replicaSetProblem, isReconfiguration } from './reconfiguration';
