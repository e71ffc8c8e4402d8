export { runRaftSchedule } from './run';
export { RaftSim, type RaftSimOptions, type RaftSimResult, type RaftSimStats } from './cluster';
export { CORE_CANARIES, RAFT_CANARIES, raftCanary, type RaftCanary, type RuntimeFault } from './canaries';
export { drawParams, type RaftSimParams } from './params';
