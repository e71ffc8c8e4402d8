export * from './types';
export { encodeRequest, decodeRequest } from './codec';
export { validateRequest, KvValidationError, isTopicName, TOPIC_NAME } from './validate';
export { DEAD_LETTER_SUFFIX, TOPIC_FETCH_SCAN, TOPIC_MAX_BATCH } from './topics';
export { KvStateMachine } from './state-machine';
export { answerQuery, type QueryAnswer } from './query';
