import type { ProcedureDescriptor } from '../core/procedures.js';
import { toJsonSchema } from './contract-snapshot.js';
import type { JsonSchema } from './contract-types.js';
import { resolveSchemaNames } from './schema-names.js';

/**
 * An API reference in Markdown, from the endpoints themselves: every procedure with its
 * kind, who may call it, and its input and output as compact types (what the contract
 * snapshot records). Checked in CI like the generated client, so it never goes stale.
 */
export function generateApiReference(opts: {
  procedures: readonly ProcedureDescriptor[];
  title: string;
  /** Markdown under the title (how to call, where the contract lives). */
  intro?: string;
  /** The schema module: inputs and outputs are then shown with the names it exports them under. */
  schemas?: { module: string; exports: Readonly<Record<string, unknown>> };
}): string {
  const names = new Map(
    opts.schemas === undefined ? [] : resolveSchemaNames(opts.procedures, opts.schemas).map((r) => [r.procedure, r]),
  );
  const named = (name: string | undefined) => (name === undefined || name === '' ? '' : ` (\`${name}\`)`);
  const lines = [`# ${opts.title}`, '', '<!-- Generated: do not edit. -->', ''];
  if (opts.intro !== undefined) lines.push(opts.intro.trim(), '');
  let endpoint = '';
  for (const p of opts.procedures) {
    if (p.endpointName !== endpoint) {
      endpoint = p.endpointName;
      lines.push(`## ${endpoint}`, '');
    }
    const traits = [
      p.kind,
      p.public ? 'public' : 'signed in',
      ...(p.tracked ? ['tracked ids (resume with `lastEventId`)'] : []),
    ];
    lines.push(`### \`${p.path}\``, '', `${traits.join(' · ')}`, '');
    if (p.description !== undefined) lines.push(p.description, '');
    const { input, output } = names.get(p) ?? {};
    lines.push(
      `- input${named(input)}: \`${p.input === undefined ? 'none' : render(toJsonSchema(p.input, 'input'))}\``,
    );
    lines.push(
      `- ${p.kind === 'subscription' ? 'each event' : 'output'}${named(output)}: \`${render(toJsonSchema(p.output, 'output'))}\``,
      '',
    );
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

type Obj = { [key: string]: unknown };

/** A JSON Schema as a one-line TypeScript-like type. */
function render(schema: JsonSchema, root: JsonSchema = schema, depth = 0): string {
  if (schema === true) return 'unknown';
  if (schema === false) return 'never';
  if (depth > 8) return '…';
  const s = schema;
  if (typeof s['$ref'] === 'string') {
    const target = resolveRef(root, s['$ref']);
    return target === undefined ? 'unknown' : render(target, root, depth + 1);
  }
  const union = (s['anyOf'] ?? s['oneOf']) as JsonSchema[] | undefined;
  if (Array.isArray(union)) return union.map((m) => render(m, root, depth + 1)).join(' | ');
  if ('const' in s) return JSON.stringify(s['const']);
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  const type = s['type'];
  if (Array.isArray(type)) return type.map((t) => render({ ...s, type: t as string }, root, depth + 1)).join(' | ');
  switch (type) {
    case 'object': {
      const props = (s['properties'] ?? {}) as Record<string, JsonSchema>;
      const required = new Set((s['required'] ?? []) as string[]);
      const fields = Object.entries(props).map(
        ([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${render(v, root, depth + 1)}`,
      );
      return fields.length === 0 ? 'object' : `{ ${fields.join('; ')} }`;
    }
    case 'array':
      return `${wrap(render((s['items'] ?? true) as JsonSchema, root, depth + 1))}[]`;
    case 'string':
      return s['format'] === 'date-time' ? 'Date' : 'string';
    case 'integer':
      return 'integer';
    case 'number':
    case 'boolean':
    case 'null':
      return type;
    default:
      return 'unknown';
  }
}

function wrap(type: string): string {
  return type.includes(' ') ? `(${type})` : type;
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = (node as Obj | undefined)?.[part];
  return node as JsonSchema | undefined;
}
