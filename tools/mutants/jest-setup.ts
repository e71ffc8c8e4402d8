/**
 * The unit project's setup (jest.config.js): SYNOD_MUTANT=<name>[,<name>] switches those mutants of
 * libs/consensus/src/mutants.ts on for a whole jest run, before any spec loads. `npm run mutants`
 * runs each protocol's unit specs this way; without the variable nothing changes.
 */
import { enableMutant } from '../../libs/consensus/src/mutants';

for (const name of (process.env.SYNOD_MUTANT ?? '').split(',')) if (name.trim() !== '') enableMutant(name.trim());
