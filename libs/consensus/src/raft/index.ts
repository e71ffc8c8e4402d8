export * from './types';
export { RaftNode, RaftStatus } from './node';
export { quorumOf } from './quorum';
export * from './configuration';
export { splitForPersist } from './ready';
