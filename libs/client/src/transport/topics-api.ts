import type { SynodClient } from '../client';
import type { TopicDelivery, TopicFetchOptions, TopicPublishOptions } from '../topics';

/** One delivery of a topic message to a consumer group (the SDK's TopicDelivery). */
export type TopicMessage = TopicDelivery;

/**
 * What the transport needs of `client.topics` (SynodTopics, libs/client/src/topics.ts): an
 * interface of its own, so that the transport can be tested with an in-memory fake.
 */
export interface TopicsApi {
  publish(topic: string, value: string, opts?: TopicPublishOptions): Promise<{ id: string; offset: number }>;
  fetch(topic: string, opts: TopicFetchOptions): Promise<TopicMessage[]>;
  ack(topic: string, group: string, ids: string[]): Promise<unknown>;
  nack(topic: string, group: string, ids: string[], opts?: { delayMs?: number }): Promise<unknown>;
}

export type { TopicFetchOptions as FetchOptions, TopicPublishOptions as PublishOptions };

/** The client's topics API. */
export function topicsOf(client: SynodClient): TopicsApi {
  return client.topics;
}
