export * from './client';
export * from './errors';
export { op, TxnBuilder, type Compare, type CompareOp, type CompareTarget, type TxnOp, type TxnOpResult, type TxnRequest, type TxnResult } from './txn';
export type { WatchEvent, WatchOptions, WatchTarget } from './watch';
export { SynodModule, type SynodModuleAsyncOptions } from './nest';
export type { TransportOptions } from './transport';
