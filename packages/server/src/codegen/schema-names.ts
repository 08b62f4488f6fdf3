import * as protocol from '@streampod/protocol';
import type { Schema } from '../core/endpoint.js';
import type { ProcedureDescriptor } from '../core/procedures.js';

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** Every zod schema exported by `@streampod/protocol`, by identity → export name. */
export function protocolSchemaNames(): Map<Schema, string> {
  const names = new Map<Schema, string>();
  for (const [name, value] of Object.entries(protocol)) {
    if (isSchema(value) && !names.has(value)) names.set(value, name);
  }
  return names;
}

/** True for `z.void()`: calls that return nothing. */
export function isVoidSchema(schema: Schema): boolean {
  return schema._zod.def.type === 'void';
}

/**
 * The protocol export name of each procedure's input and output. Types flow from the
 * protocol package only, so a schema that is not exported from it is an error here.
 */
export function resolveSchemaNames(procedures: readonly ProcedureDescriptor[]) {
  const names = protocolSchemaNames();
  const problems: string[] = [];
  const nameOf = (path: string, role: string, schema: Schema): string => {
    const name = names.get(schema);
    if (name === undefined) problems.push(`${path}: the ${role} schema is not exported from @streampod/protocol`);
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
