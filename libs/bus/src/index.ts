export { Bus } from './bus';
export type { BusOptions, BusCounters, Frame } from './bus';
export { channelFor, topicChannel, DIRECT } from './channels';
export { encodeFrame, decodeFrame, FRAME_VERSION } from './frame';
