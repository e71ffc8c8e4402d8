export { SynodContext } from './context';
export { SynodServer, type SynodServerOptions } from './server';
export { SynodClientProxy, SynodReplyTimeoutError, type SynodClientProxyOptions } from './client-proxy';
export { SynodRecord, REPLY_TO, CORRELATION_ID, type SynodRecordOptions } from './record';
export { once, incrementOnce, type OnceOptions, type OnceResult } from './once';
export type { TopicMessage, TopicsApi } from './topics-api';
