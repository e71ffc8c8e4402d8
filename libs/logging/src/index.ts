/** Process logging shared by the gateway and the replicas: one pino setup, JSON lines, no secrets. */
export { createLogger, logLevel, LogLevelError, LOG_LEVELS, type CreateLoggerOptions } from './logger';
export { redactUrl, scrubUrls } from './scrub';
