import 'reflect-metadata';
import { join } from 'node:path';
import { redact } from '@app/config';
import { Launcher } from './launcher';
import { HelpRequested, parseArgs } from './options';
import { redisServerAvailable } from './redis-process';
import { REDIS_SECRETS_FILE } from './redis-secrets';

/** `npm start`: a local cluster in one command; Ctrl-C stops everything. */
async function main(): Promise<void> {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${err.usage}\n`);
      process.exit(0);
    }
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  if (!opts.redisUrl && !redisServerAvailable()) {
    process.stderr.write(
      'synod: redis-server is not on PATH.\n' +
        '  Debian/Ubuntu: sudo apt-get install redis-server    macOS: brew install redis\n' +
        '  or point REDIS_URL at a Redis 7 you run yourself (REDIS_URL=redis://host:6379 npm start).\n',
    );
    process.exit(1);
  }
  const launcher = new Launcher(opts);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\n[launcher] stopping...\n');
    await launcher.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await launcher.start();
  } catch (err) {
    process.stderr.write(`synod: start failed: ${(err as Error).message}\n`);
    await launcher.stop();
    process.exit(1);
  }
  const d = launcher.describe();
  const homes = [...new Set(Object.values(d.homes))];
  const redisLine =
    homes.length === 1
      ? `one Redis for everything: ${redact(homes[0])}`
      : `one per replica (its log and bus inbox): ${Object.entries(d.homes)
          .map(([id, url]) => `${id} ${redact(url)}`)
          .join(', ')}`;
  process.stdout.write(
    `\nSynod is up (${opts.protocol}, ${opts.nodes} replicas)\n` +
      `  REST API   ${launcher.gatewayUrl}/v1/kv/{key}\n` +
      `  cluster    ${launcher.gatewayUrl}/v1/cluster\n` +
      `  dashboard  ${launcher.gatewayUrl}/\n` +
      `  OpenAPI    ${launcher.gatewayUrl}/docs\n` +
      `  Redis      ${redisLine}\n` +
      (opts.redisUrl ? '' : `  Redis ACL  default user off; passwords in ${join(d.keys, REDIS_SECRETS_FILE)} (mode 0600)\n`) +
      `Ctrl-C stops everything.\n`,
  );
  // One machine-readable line for scripts and tests; no password in it (logs keep stdout).
  const safe = { ...d, homes: Object.fromEntries(Object.entries(d.homes).map(([id, url]) => [id, redact(url)])), queue: redact(d.queue) };
  process.stdout.write(`SYNOD_READY ${JSON.stringify(safe)}\n`);
}

void main();
