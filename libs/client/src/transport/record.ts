/** Message options a producer can give with `emit`/`send`: `client.emit('orders.created', new SynodRecord(order, { key: order.customer }))`. */
export interface SynodRecordOptions {
  /** Messages with one key are delivered in order, one at a time. */
  key?: string;
  headers?: Record<string, string>;
  /** Exactly-once produce for emit(): the same key twice is one message (e.g. an order id). send() ignores it. */
  idempotencyKey?: string;
}

/** A payload with its message options (Nest's RmqRecord, KafkaRecord…). */
export class SynodRecord<T = unknown> {
  constructor(
    readonly data: T,
    readonly options: SynodRecordOptions = {},
  ) {}
}

/** Header names of SynodClientProxy's request/response protocol. */
export const REPLY_TO = 'reply-to';
export const CORRELATION_ID = 'correlation-id';

/** A message value as the transport writes it: JSON (a value that is not JSON is given as the string). */
export function decodeValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** A reply on a reply topic: Nest's WritePacket without the id (the correlation-id header carries it). */
export interface ReplyValue {
  response?: unknown;
  err?: unknown;
  isDisposed: true;
}
