/**
 * `pnpm generate`: writes the typed client surface from the registered endpoints.
 * `pnpm generate --check`: fails when the committed file is stale (CI).
 * `--out <file>` writes (or checks) another file than the client's.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { appEndpoints } from '../src/app/endpoints.js';
import { describeEndpoints } from '../src/core/procedures.js';
import { generateClientSource } from '../src/codegen/generate-client.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const outIndex = args.indexOf('--out');
const target =
  outIndex === -1
    ? resolve(dirname(fileURLToPath(import.meta.url)), '../../client/src/generated/api.ts')
    : resolve(args[outIndex + 1] ?? '');

const source = await format(generateClientSource(describeEndpoints(appEndpoints)), {
  ...(await resolveConfig(target)),
  filepath: target,
});
const current = await readFile(target, 'utf8').catch(() => null);
const shown = relative(process.cwd(), target);

if (check) {
  if (current !== source) {
    console.error(
      `${shown} is stale: the endpoints changed since it was generated. Run \`pnpm generate\` and commit it.`,
    );
    process.exit(1);
  }
  console.log(`${shown} is up to date`);
} else if (current === source) {
  console.log(`${shown} is up to date`);
} else {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, source);
  console.log(`wrote ${shown}`);
}
