export * from './types';
export { encodeRequest, decodeRequest } from './codec';
export { validateRequest, KvValidationError } from './validate';
export { KvStateMachine } from './state-machine';
export { answerQuery, type QueryAnswer } from './query';
