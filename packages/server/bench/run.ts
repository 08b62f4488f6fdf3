/** `pnpm bench [name…]`: runs the named benchmarks (all when none is named). */
import { runClusterBench } from './cluster.js';
import { runPresenceBench } from './presence.js';
import { runStorageBench } from './storage.js';

const benches: Record<string, () => Promise<boolean>> = {
  presence: runPresenceBench,
  cluster: runClusterBench,
  storage: runStorageBench,
};
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !(n in benches));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
let ok = true;
for (const name of names.length > 0 ? names : Object.keys(benches)) ok = (await benches[name]!()) && ok;
process.exit(ok ? 0 : 1);
