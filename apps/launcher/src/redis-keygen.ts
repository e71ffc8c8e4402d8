import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aclFileText, BUS_USER, busUser, ensureRedisSecrets, HEALTH_USER, healthUser, ownerUser, QUEUE_USER } from './redis-secrets';

/**
 * `node dist/apps/launcher/src/redis-keygen.js KEYS_DIR ACL_DIR CLUSTER ID...`: compose's one-shot
 * key job, the Redis half. Random passwords (made once) in KEYS_DIR/redis.json, which only the Synod
 * containers mount: one per replica (owner of its Redis), `bus`, `gateway` (owner of the queue
 * Redis) and `health` (PING only). For the Redis containers, in ACL_DIR: `<id>.acl` and `queue.acl`
 * (users with password hashes only, `default` off) and `health` (the healthcheck's password).
 */
const [keysDir, aclDir, cluster, ...ids] = process.argv.slice(2);
if (!keysDir || !aclDir || !cluster || ids.length === 0) {
  process.stderr.write('usage: redis-keygen KEYS_DIR ACL_DIR CLUSTER ID...\n');
  process.exit(2);
}
const pw = ensureRedisSecrets(keysDir, [...ids, BUS_USER, QUEUE_USER, HEALTH_USER]);
mkdirSync(aclDir, { recursive: true });
// Hashes only: readable by the Redis containers' own user (another uid than the one writing here).
const write = (file: string, text: string): void => writeFileSync(join(aclDir, file), text, { mode: 0o644 });
for (const id of ids) write(`${id}.acl`, aclFileText([ownerUser(id, pw[id]), busUser(cluster, pw[BUS_USER]), healthUser(pw[HEALTH_USER])]));
write('queue.acl', aclFileText([ownerUser(QUEUE_USER, pw[QUEUE_USER]), healthUser(pw[HEALTH_USER])]));
// The one plaintext password here: it opens PING and nothing else.
write(HEALTH_USER, pw[HEALTH_USER]);
process.stdout.write(`Redis users for ${ids.join(', ')}, ${BUS_USER}, ${QUEUE_USER} in ${join(keysDir, 'redis.json')}; ACL files in ${aclDir}\n`);
