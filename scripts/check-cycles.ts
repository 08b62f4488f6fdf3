/**
 * No import cycles: between the workspace's packages (by their package.json dependencies)
 * and between the top-level folders of each package's `src` (by relative imports). Tests
 * (`*.test.ts`) are leaves nothing imports, so theirs do not count; conformance suites and
 * fixtures do. Run by `pnpm lint`; prints each cycle and exits 1 when there is one.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const groups = ['packages', 'apps', 'examples'];

type Graph = Map<string, Set<string>>;

function cycles(graph: Graph): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'visiting') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node);
  return found;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (/\.(ts|tsx)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Folders that are one package themselves rather than a group of them. */
const singles = ['benchmarks'];

const isPackage = (dir: string) => statSync(join(dir, 'package.json'), { throwIfNoEntry: false }) !== undefined;
const children = (group: string) => {
  const dir = join(root, group);
  return statSync(dir, { throwIfNoEntry: false }) === undefined ? [] : readdirSync(dir).map((name) => join(dir, name));
};
const packageDirs = [...groups.flatMap(children), ...singles.map((name) => join(root, name))].filter(isPackage);

const problems: string[] = [];

// Packages, by every kind of dependency.
const manifests = packageDirs.map(
  (dir) =>
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    },
);
const names = new Set(manifests.map((m) => m.name));
const packageGraph: Graph = new Map(
  manifests.map((m) => [
    m.name,
    new Set(
      Object.keys({ ...m.dependencies, ...m.peerDependencies, ...m.devDependencies }).filter((d) => names.has(d)),
    ),
  ]),
);
for (const cycle of cycles(packageGraph)) problems.push(`packages: ${cycle.join(' → ')}`);

// Folders of each package's src.
const importPattern = /(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g;
for (const dir of packageDirs) {
  const src = join(dir, 'src');
  if (statSync(src, { throwIfNoEntry: false }) === undefined) continue;
  const folderOf = (file: string) => {
    const rel = relative(src, file).split(sep);
    return rel.length === 1 ? '(src)' : rel[0]!;
  };
  const graph: Graph = new Map();
  const via = new Map<string, string>();
  for (const file of filesUnder(src).filter((f) => !f.endsWith('.test.ts'))) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const match of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const target = resolve(dirname(file), match[1]!);
      if (!target.startsWith(src + sep)) continue;
      const to = folderOf(target);
      if (to === from || to === '(src)' || from === '(src)') continue; // the package's entry files sit above its folders
      graph.get(from)!.add(to);
      via.set(`${from}→${to}`, relative(root, file));
    }
  }
  for (const cycle of cycles(graph)) {
    const steps = cycle.slice(1).map((to, i) => `${cycle[i]} → ${to} (${via.get(`${cycle[i]}→${to}`)})`);
    problems.push(`${relative(root, dir)}/src: ${steps.join(', ')}`);
  }
}

if (problems.length > 0) {
  console.error(`import cycles:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`no import cycles (${packageDirs.length} packages and their folders)`);
