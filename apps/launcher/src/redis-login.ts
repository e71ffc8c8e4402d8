import { resolve } from 'node:path';
import { BUS_USER, QUEUE_USER, readRedisSecrets, withLogin } from './redis-secrets';

/**
 * `node dist/apps/launcher/src/redis-login.js MAIN.js`: compose's Synod containers run their app
 * through this. It puts the Redis logins from `$KEYS_DIR/redis.json` (written by the key job) into
 * the Redis URLs of the environment that carry none: STORAGE_URL as the replica itself (NODE_ID),
 * every BUS_URLS / BUS_URL entry as `bus`, QUEUE_URL as `gateway`. Then it runs MAIN in this very
 * process, so no password is in the compose file, the container's environment or a command line.
 */
const [main] = process.argv.slice(2);
if (!main) {
  process.stderr.write('usage: redis-login MAIN.js\n');
  process.exit(2);
}
const env = process.env;
const secrets = env.KEYS_DIR ? readRedisSecrets(env.KEYS_DIR) : null;
if (!secrets) {
  process.stderr.write(`redis-login: no ${env.KEYS_DIR ?? '$KEYS_DIR'}/redis.json (compose's keys job writes it); Redis URLs left as given\n`);
} else {
  const login = (url: string, user: string | undefined): string => (user && secrets[user] ? withLogin(url.trim(), user, secrets[user]) : url);
  if (env.STORAGE_URL) env.STORAGE_URL = login(env.STORAGE_URL, env.NODE_ID);
  if (env.BUS_URL) env.BUS_URL = login(env.BUS_URL, BUS_USER);
  if (env.QUEUE_URL) env.QUEUE_URL = login(env.QUEUE_URL, QUEUE_USER);
  if (env.BUS_URLS) {
    env.BUS_URLS = env.BUS_URLS.split(',')
      .map((entry) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? entry : `${entry.slice(0, eq + 1)}${login(entry.slice(eq + 1), BUS_USER)}`;
      })
      .join(',');
  }
}
// The app sees itself as the script that runs.
const target = resolve(main);
process.argv.splice(1, 2, target);
void import(target);
