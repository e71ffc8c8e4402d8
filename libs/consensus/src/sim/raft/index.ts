export { runRaftSchedule } from './run';
export { RaftSim, type RaftSimOptions, type RaftSimResult, type RaftSimStats } from './cluster';
export { RAFT_CANARIES, raftCanary } from './canaries';
export { drawParams, type RaftSimParams } from './params';
