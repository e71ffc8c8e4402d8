/**
 * Channel names on the bus Redis. Everything sits under `synod:<cluster>:` so several clusters can
 * share one Redis; `n:` and `t:` keep an endpoint and a topic of the same name apart.
 */

/** The topic name a frame carries when it arrived on the receiver's own (direct) channel. */
export const DIRECT = 'direct';

/** The direct channel of one endpoint (a replica id like "n1", or a gateway "gw-<uuid>"). */
export function channelFor(cluster: string, endpoint: string): string {
  return `synod:${cluster}:n:${endpoint}`;
}

/** A topic channel: every endpoint listening on `topic` gets each frame. */
export function topicChannel(cluster: string, topic: string): string {
  return `synod:${cluster}:t:${topic}`;
}
