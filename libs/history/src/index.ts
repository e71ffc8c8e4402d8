export type { OpKind, HistoryOp, CheckResult, CheckOptions, Violation } from './types';
export { checkLinearizable } from './check';
export { describe as describeOp } from './explain';
