import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import type { EndpointMap } from '../core/endpoint.js';
import { describeEndpoints } from '../core/procedures.js';
import { generateApiReference } from './api-reference.js';
import { diffContracts, formatChanges, type ContractSnapshot } from './contract-diff.js';
import { contractSnapshot } from './contract-snapshot.js';
import { generateClientSource } from './generate-client.js';
import type * as Prettier from 'prettier';

/** What an app generates from its endpoints, and where it keeps it. */
export interface CodegenTarget {
  endpoints: EndpointMap;
  /** Where the schemas come from, as the generated client imports them, and its exports. */
  schemas: { module: string; exports: Readonly<Record<string, unknown>> };
  /** The module with the client runtime types, as the generated client imports it. */
  runtimeModule: string;
  /** The generated client surface (absolute path). */
  clientFile: string;
  /** The committed contract snapshot (absolute path). */
  contractFile: string;
  /** The generated API reference in Markdown (absolute path), if wanted. */
  docsFile?: string;
  docsTitle?: string;
  docsIntro?: string;
  /** @default 'Api' */
  apiName?: string;
  /** @default 'apiManifest' */
  manifestName?: string;
  /** First lines of the generated files: how to regenerate them. */
  header?: string;
}

/**
 * The app's codegen command line, for its own script:
 * - `generate`: writes the client surface (and the API reference); `generate --check`
 *   fails when a committed one is stale (CI);
 * - `contract check`: fails on a breaking change against the committed snapshot;
 *   `contract update` records the current API as the contract.
 * Resolves with the process exit code.
 */
export async function runCodegen(target: CodegenTarget, args: readonly string[]): Promise<number> {
  const procedures = describeEndpoints(target.endpoints);
  const [command, sub] = args;
  if (command === 'generate') {
    const check = args.includes('--check');
    const outputs: [string, string, 'typescript' | 'markdown'][] = [
      [
        target.clientFile,
        generateClientSource({
          procedures,
          schemas: target.schemas,
          runtimeModule: target.runtimeModule,
          ...(target.apiName === undefined ? {} : { apiName: target.apiName }),
          ...(target.manifestName === undefined ? {} : { manifestName: target.manifestName }),
          ...(target.header === undefined ? {} : { header: target.header }),
        }),
        'typescript',
      ],
    ];
    if (target.docsFile !== undefined) {
      outputs.push([
        target.docsFile,
        generateApiReference({
          procedures,
          title: target.docsTitle ?? 'API reference',
          schemas: target.schemas,
          ...(target.docsIntro === undefined ? {} : { intro: target.docsIntro }),
        }),
        'markdown',
      ]);
    }
    let code = 0;
    for (const [file, raw, parser] of outputs)
      code = Math.max(code, await writeOrCheck(file, await pretty(raw, file, parser), check));
    return code;
  }
  if (command === 'contract' && (sub === 'check' || sub === 'update')) {
    return contract(target.contractFile, contractSnapshot(procedures), sub);
  }
  console.error('usage: generate [--check] | contract check | contract update');
  return 2;
}

async function writeOrCheck(file: string, source: string, check: boolean): Promise<number> {
  const current = await readFile(file, 'utf8').catch(() => null);
  const shown = relative(process.cwd(), file);
  if (current === source) {
    console.log(`${shown} is up to date`);
    return 0;
  }
  if (check) {
    console.error(
      `${shown} is stale: the endpoints changed since it was generated. Run \`pnpm generate\` and commit it.`,
    );
    return 1;
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, source);
  console.log(`wrote ${shown}`);
  return 0;
}

async function contract(file: string, next: ContractSnapshot, mode: 'check' | 'update'): Promise<number> {
  const shown = relative(process.cwd(), file);
  const text = `${JSON.stringify(next, null, 2)}\n`;
  if (mode === 'update') {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    console.log(`wrote ${shown}`);
    return 0;
  }
  const committed = await readFile(file, 'utf8').catch(() => null);
  if (committed === null) {
    console.error(`${shown} is missing: run \`pnpm contract:update\` and commit it.`);
    return 1;
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
    return 1;
  }
  if (committed !== text)
    console.log(`\nonly compatible changes: run \`pnpm contract:update\` to record them in ${shown}.`);
  else console.log(`API matches ${shown}`);
  return 0;
}

/** Formats with the project's Prettier when it has one. */
async function pretty(source: string, file: string, parser: 'typescript' | 'markdown'): Promise<string> {
  let prettier: typeof Prettier;
  try {
    prettier = await import('prettier');
  } catch {
    return source;
  }
  return prettier.format(source, { ...(await prettier.resolveConfig(file)), filepath: file, parser });
}
