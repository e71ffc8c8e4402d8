export { Bus } from './bus';
export type { BusOptions, BusCounters, Frame } from './bus';
export { channelFor, topicChannel, DIRECT } from './channels';
export { FrameAuth, CLIENT_PRINCIPAL, REJECT_REASONS } from './auth';
export type { BusKeys, FrameAuthOptions, Opened, RejectReason } from './auth';
export { FRAME_VERSION } from './frame';
export { testBusKeys } from './test-keys';
export { sealEnvelope, openEnvelope, type Envelope } from './envelope';
