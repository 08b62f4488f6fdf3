/**
 * `pnpm bench [fanout|latency|nodes|clients|memory…] [--report]` lands here (see scripts/bench.ts):
 * the named benchmarks of this package, or all of them.
 */
import { runChatMemoryBench } from './chat-memory.js';
import { runClientsBench } from './clients.js';
import { runMemoryBench } from './memory.js';
import { runFanoutBench, runLatencyBench, runNodesBench } from './run.js';

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const report = process.argv.includes('--report');
const runs: Record<string, () => Promise<boolean>> = {
  fanout: () => runFanoutBench({ report }),
  latency: runLatencyBench,
  nodes: runNodesBench,
  clients: runClientsBench,
  memory: async () => (await runMemoryBench()) && (await runChatMemoryBench()),
};
let ok = true;
for (const name of names.length > 0 ? names : Object.keys(runs)) ok = (await runs[name]!()) && ok;
process.exitCode = ok ? 0 : 1;
