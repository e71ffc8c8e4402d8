export * from './client';
export * from './errors';
export { op, TxnBuilder, type Compare, type CompareOp, type CompareTarget, type TxnOp, type TxnOpResult, type TxnRequest, type TxnResult } from './txn';
export type { WatchEvent, WatchOptions, WatchTarget } from './watch';
export { LeaseApi, type Lease, type LeaseHandle, type LeaseInfo, type LeaseOptions, type RevokeResult } from './lease';
export {
  SynodTopics,
  type TopicAckResult,
  type TopicDelivery,
  type TopicFetchOptions,
  type TopicGroupInfo,
  type TopicInfo,
  type TopicNackOptions,
  type TopicNackResult,
  type TopicPublishOptions,
  type TopicPublishResult,
  type TopicWriteOptions,
} from './topics';
export type { Lock, LockOptions } from './lock';
export type { CampaignOptions, Leader, Leadership, ObserveOptions } from './election';
export { SynodModule, type SynodModuleAsyncOptions } from './nest';
export type { RequestOptions, TransportOptions } from './transport';
export * from './transport/index';
