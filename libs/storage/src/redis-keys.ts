export interface StoreKeys {
  /** A stream: one entry per log record. */
  log: string;
  hardState: string;
  /** A hash {index, data}. */
  snapshot: string;
  /** A hash {gen}: the generation of stream ids (see redis-scripts.ts). */
  meta?: string;
  /** A hash index -> data: the slots beside the log. */
  slots?: string;
}

/**
 * One replica's keys share the hash tag `{<cluster>:<node>}`: under Redis Cluster they land
 * on one slot, so a Lua script may touch them all, while replicas spread over the shards.
 * Braces would move the tag, and a ':' in the node name would let cluster "a:b"/node "c"
 * and cluster "a"/node "b:c" share keys, so both are refused.
 */
export function storeKeys(cluster: string, node: string): Required<StoreKeys> {
  if (!cluster || /[{}]/.test(cluster)) throw new Error(`invalid cluster name ${JSON.stringify(cluster)}`);
  if (!node || /[{}:]/.test(node)) throw new Error(`invalid node name ${JSON.stringify(node)}`);
  const prefix = `synod:{${cluster}:${node}}`;
  return { log: `${prefix}:log`, hardState: `${prefix}:hs`, snapshot: `${prefix}:snap`, meta: `${prefix}:meta`, slots: `${prefix}:slots` };
}
