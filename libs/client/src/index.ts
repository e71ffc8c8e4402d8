export * from './client';
export * from './errors';
export { SynodModule, type SynodModuleAsyncOptions } from './nest';
export type { TransportOptions } from './transport';
