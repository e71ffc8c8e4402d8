import { ensureKeys } from '@app/wire';

/** `node dist/apps/launcher/src/keygen.js DIR ID...`: PBFT key files for compose's one-shot key job. */
const [dir, ...ids] = process.argv.slice(2);
if (!dir || ids.length === 0) {
  process.stderr.write('usage: keygen DIR ID...\n');
  process.exit(2);
}
ensureKeys(dir, ids);
process.stdout.write(`keys for ${ids.join(', ')} in ${dir}\n`);
