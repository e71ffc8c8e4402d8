export * from './types';
export { RaftNode, RaftStatus } from './node';
export { quorumOf } from './quorum';
export { splitForPersist } from './ready';
