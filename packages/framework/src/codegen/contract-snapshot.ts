import { z } from 'zod';
import type { Schema } from '../core/endpoint.js';
import type { ProcedureDescriptor } from '../core/procedures.js';
import type { ContractSnapshot, JsonSchema } from './contract-types.js';
import { isVoidSchema } from './schema-names.js';

/** A schema as the contract records it: JSON Schema 2020-12, Dates as date-time strings. */
export function toJsonSchema(schema: Schema, io: 'input' | 'output'): JsonSchema {
  if (isVoidSchema(schema)) return { type: 'null' };
  return z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
    // Dates travel as Dates through superjson; for the contract they are timestamps.
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === 'date') {
        ctx.jsonSchema['type'] = 'string';
        ctx.jsonSchema['format'] = 'date-time';
      }
    },
  });
}

/** The API contract as JSON Schema: every procedure's kind, input and output (one event, for streams). */
export function contractSnapshot(procedures: readonly ProcedureDescriptor[]): ContractSnapshot {
  const snapshot: ContractSnapshot = { version: 1, procedures: {} };
  for (const p of procedures) {
    snapshot.procedures[p.path] = {
      kind: p.kind,
      input: p.input === undefined ? null : toJsonSchema(p.input, 'input'),
      output: toJsonSchema(p.output, 'output'),
      ...(p.kind === 'subscription' ? { tracked: p.tracked } : {}),
    };
  }
  return snapshot;
}
