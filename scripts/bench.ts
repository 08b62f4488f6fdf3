/**
 * `pnpm bench [name…]`: the benchmarks, wherever they live. `fanout`, `latency`, `nodes` and
 * `clients` (each server its own pinned process) and `memory` are in benchmarks/; `presence`,
 * `cluster` and `storage` are the chat server's own, in packages/server/bench. No name runs them all.
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const homes: Record<string, string> = {
  fanout: 'benchmarks',
  memory: 'benchmarks',
  latency: 'benchmarks',
  nodes: 'benchmarks',
  clients: 'benchmarks',
  presence: 'packages/server',
  cluster: 'packages/server',
  storage: 'packages/server',
};
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// Flags go to every benchmark (`--report`: the fan-out benchmark writes docs/bench/).
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const unknown = names.filter((n) => !(n in homes));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(homes).join(', ')}`);
  process.exit(2);
}
let failed = false;
for (const home of new Set((names.length > 0 ? names : Object.keys(homes)).map((n) => homes[n]!))) {
  const mine = names.filter((n) => homes[n] === home);
  let args: string[];
  if (home === 'benchmarks') {
    // The packages as they ship, not their sources through tsx (whose keep-names helper costs
    // CPU and heap per closure): build them, then resolve them to dist/.
    for (const pkg of ['framework', 'protocol', 'server']) {
      const built = spawnSync('npx', ['tsc', '-p', `packages/${pkg}/tsconfig.build.json`], {
        cwd: root,
        stdio: 'inherit',
      });
      if (built.status !== 0) process.exit(1);
    }
    args = ['--expose-gc', '--import', 'tsx', 'main.ts', ...mine, ...flags];
  } else {
    args = ['--expose-gc', '--conditions=@streampod/source', '--import', 'tsx', 'bench/run.ts', ...mine, ...flags];
  }
  const result = spawnSync(process.execPath, args, { cwd: resolve(root, home), stdio: 'inherit' });
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
