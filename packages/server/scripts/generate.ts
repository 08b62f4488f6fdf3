/**
 * `pnpm generate`: writes the typed client surface from the registered endpoints.
 * `pnpm generate --check`: fails when the committed file is stale (CI).
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { appEndpoints } from '../src/app/endpoints.js';
import { describeEndpoints } from '../src/core/procedures.js';
import { generateClientSource } from '../src/codegen/generate-client.js';

const target = resolve(dirname(fileURLToPath(import.meta.url)), '../../client/src/generated/api.ts');
const check = process.argv.includes('--check');

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
