// Helpers of the contract and schema diff tests (`.fixture.ts`: kept out of the build).
import { z } from 'zod';
import { diffContracts } from './contract-diff.js';
import { toJsonSchema } from './contract-snapshot.js';
import type { ContractChange, ContractSnapshot, ProcedureContract } from './contract-diff.js';

/** Converts schemas exactly as the snapshot generator does. */
const toSchema = toJsonSchema;

export type Kind = ProcedureContract['kind'];

export function proc(input: z.ZodType | null, output: z.ZodType, kind: Kind = 'query'): ProcedureContract {
  return { kind, input: input === null ? null : toSchema(input, 'input'), output: toSchema(output, 'output') };
}

export function snap(procedures: Record<string, ProcedureContract>): ContractSnapshot {
  return { version: 1, procedures };
}

export const ok = z.object({ ok: z.boolean() });

/** Diffs a single procedure `p` whose input (or output) changed. */
export function diffInput(before: z.ZodType, after: z.ZodType): ContractChange[] {
  return diffContracts(snap({ p: proc(before, ok) }), snap({ p: proc(after, ok) }));
}

export function diffOutput(before: z.ZodType, after: z.ZodType): ContractChange[] {
  return diffContracts(snap({ p: proc(null, before) }), snap({ p: proc(null, after) }));
}

/** `[severity, where]` pairs: compact enough to assert exactly. */
export function summary(changes: ContractChange[]): Array<[string, string]> {
  return changes.map((c) => [c.severity, c.where]);
}

export const severities = (changes: ContractChange[]): string[] => [...new Set(changes.map((c) => c.severity))];

export const sendMessage = z.object({ roomId: z.string(), text: z.string().max(2000) });
export const message = z.object({
  id: z.string(),
  roomId: z.string(),
  text: z.string(),
  status: z.enum(['sent', 'delivered']),
  createdAt: z.date(),
});
