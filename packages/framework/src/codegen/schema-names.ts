import type { Schema } from '../core/endpoint.js';
import type { ProcedureDescriptor } from '../core/procedures.js';

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/**
 * Every zod schema a module exports, by identity → export name. One schema exported under
 * two names could not be told apart: an error says which, so the module can make them two.
 */
export function schemaNamesOf(schemas: Readonly<Record<string, unknown>>): Map<Schema, string> {
  const names = new Map<Schema, string>();
  const twice: string[] = [];
  for (const [name, value] of Object.entries(schemas)) {
    if (!isSchema(value)) continue;
    const known = names.get(value);
    if (known !== undefined) twice.push(`${known} and ${name}`);
    else names.set(value, name);
  }
  if (twice.length > 0) {
    throw new Error(
      `these exports are one schema under two names: ${twice.join('; ')}. ` +
        'Make the alias a schema of its own (e.g. `export const B = A.describe("…")`), so generated types keep the name an endpoint used.',
    );
  }
  return names;
}

/** True for `z.void()`: calls that return nothing. */
export function isVoidSchema(schema: Schema): boolean {
  return schema._zod.def.type === 'void';
}

/**
 * The export name of each procedure's input and output in the schema module. Types flow
 * from that module only, so a schema it does not export is an error here.
 */
export function resolveSchemaNames(
  procedures: readonly ProcedureDescriptor[],
  schemas: { module: string; exports: Readonly<Record<string, unknown>> },
) {
  const names = schemaNamesOf(schemas.exports);
  const problems: string[] = [];
  const nameOf = (path: string, role: string, schema: Schema): string => {
    const name = names.get(schema);
    if (name === undefined) problems.push(`${path}: the ${role} schema is not exported from ${schemas.module}`);
    return name ?? '';
  };
  const resolved = procedures.map((p) => ({
    procedure: p,
    input: p.input === undefined ? undefined : nameOf(p.path, 'input', p.input),
    output: isVoidSchema(p.output) ? undefined : nameOf(p.path, 'output', p.output),
  }));
  if (problems.length > 0) throw new Error(`cannot generate the client:\n  ${problems.join('\n  ')}`);
  return resolved;
}
