import { BaseRpcContext } from '@nestjs/microservices';
import type { TopicMessage } from './topics-api';

type SynodContextArgs = [message: TopicMessage, topic: string, group: string];

/**
 * The context of a message handled by SynodServer: `@Ctx() ctx: SynodContext` next to
 * `@Payload()`. The id (`<topic>/<offset>`) is the idempotency key of the handler's effects (`once`).
 */
export class SynodContext extends BaseRpcContext<SynodContextArgs> {
  constructor(args: SynodContextArgs) {
    super(args);
  }

  /** The message as delivered (value undecoded). */
  getMessage(): TopicMessage {
    return this.args[0];
  }

  getId(): string {
    return this.args[0].id;
  }

  getOffset(): number {
    return this.args[0].offset;
  }

  /** 1 on the first delivery; more after a nack, a crash or a visibility timeout. */
  getAttempt(): number {
    return this.args[0].attempt;
  }

  getKey(): string | null {
    return this.args[0].key;
  }

  getHeaders(): Record<string, string> {
    return this.args[0].headers;
  }

  getTopic(): string {
    return this.args[1];
  }

  /** The consumer group this server consumes in. */
  getGroup(): string {
    return this.args[2];
  }
}
