/**
 * `pnpm contract:check`: compares the API with the committed snapshot (contract/api.json)
 * and fails on a breaking change. `pnpm contract:update`: accepts the current API as the
 * new contract (do this deliberately, in the same commit as the change).
 * `--snapshot <file>` compares with (or writes) another snapshot file.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appEndpoints } from '../src/app/endpoints.js';
import { describeEndpoints } from '../src/core/procedures.js';
import { contractSnapshot } from '../src/codegen/contract-snapshot.js';
import { diffContracts, formatChanges, type ContractSnapshot } from '../src/codegen/contract-diff.js';

const args = process.argv.slice(2);
const snapshotIndex = args.indexOf('--snapshot');
const file =
  snapshotIndex === -1
    ? resolve(dirname(fileURLToPath(import.meta.url)), '../../../contract/api.json')
    : resolve(args[snapshotIndex + 1] ?? '');
const shown = relative(process.cwd(), file);
const next = contractSnapshot(describeEndpoints(appEndpoints));
const text = `${JSON.stringify(next, null, 2)}\n`;

if (args[0] === 'update') {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  console.log(`wrote ${shown}`);
  process.exit(0);
}

const committed = await readFile(file, 'utf8').catch(() => null);
if (committed === null) {
  console.error(`${shown} is missing: run \`pnpm contract:update\` and commit it.`);
  process.exit(1);
}
const changes = diffContracts(JSON.parse(committed) as ContractSnapshot, next);
const breaking = changes.filter((c) => c.severity === 'breaking');
if (changes.length > 0) console.log(formatChanges(changes));
if (breaking.length > 0) {
  console.error(
    `\n${breaking.length} breaking change(s) against ${shown}. Deployed clients would break.\n` +
      'Make the change compatible (add optional fields, new procedures), or, if it is deliberate,\n' +
      'run `pnpm contract:update` and commit the snapshot with the change.',
  );
  process.exit(1);
}
if (committed !== text) {
  console.log(`\nonly compatible changes: run \`pnpm contract:update\` to record them in ${shown}.`);
} else {
  console.log(`API matches ${shown}`);
}
