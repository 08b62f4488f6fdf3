/**
 * Classifies the differences between two API contract snapshots as breaking or compatible,
 * from the point of view of an already deployed old client talking to the new server.
 *
 * Inputs are contravariant (the new server must accept everything it accepted before), outputs
 * are covariant (the new server must only produce what old clients already understand).
 * Pure functions only: the snapshot files are read and written elsewhere.
 */

import type { ContractChange, ContractSnapshot, JsonSchema } from './contract-types.js';
import { acceptsMissing, compareSchemas } from './schema-diff.js';

export type { ContractChange, ContractSnapshot, JsonSchema, ProcedureContract } from './contract-types.js';

/** Lists every difference between two snapshots, procedures in alphabetical order. */
export function diffContracts(previous: ContractSnapshot, next: ContractSnapshot): ContractChange[] {
  const out: ContractChange[] = [];
  const names = new Set([...Object.keys(previous.procedures), ...Object.keys(next.procedures)]);
  for (const procedure of [...names].sort()) {
    // hasOwn: a procedure called e.g. `constructor` must not resolve to Object.prototype.
    const before = Object.hasOwn(previous.procedures, procedure) ? previous.procedures[procedure] : undefined;
    const after = Object.hasOwn(next.procedures, procedure) ? next.procedures[procedure] : undefined;
    const report = (severity: ContractChange['severity'], where: string, message: string): number =>
      out.push({ severity, procedure, where, message });
    const run = (side: 'input' | 'output', a: JsonSchema, b: JsonSchema): void =>
      compareSchemas({ side, procedure, a, b, out });
    if (!after) {
      report('breaking', '', 'procedure removed (old clients calling it will fail)');
      continue;
    }
    if (!before) {
      report('compatible', '', `${after.kind} added`);
      continue;
    }
    if (before.kind !== after.kind) report('breaking', 'kind', `kind changed from ${before.kind} to ${after.kind}`);
    if (before.tracked !== undefined && after.tracked !== undefined && before.tracked !== after.tracked) {
      // Stock clients unwrap `{ id, data }` only from tracked streams: flipping it changes every event they get.
      report(
        'breaking',
        'tracked',
        after.tracked ? 'events now carry tracked ids' : 'events no longer carry tracked ids',
      );
    }
    if (before.input !== null && after.input !== null) {
      run('input', before.input, after.input);
    } else if (before.input === null && after.input !== null) {
      if (acceptsMissing(after.input, after.input)) report('compatible', 'input', 'optional input added');
      else report('breaking', 'input', 'procedure now requires input (old clients send none)');
    } else if (before.input !== null) {
      // Without an input parser the server ignores whatever old clients still send.
      report('compatible', 'input', 'procedure no longer takes input');
    }
    run('output', before.output, after.output);
  }
  return out;
}

/** Renders changes one per line, breaking ones first. */
export function formatChanges(changes: ContractChange[]): string {
  const rank = (c: ContractChange): number => (c.severity === 'breaking' ? 0 : 1);
  const label = (c: ContractChange): string => (c.severity === 'breaking' ? 'BREAKING' : 'compatible');
  // Array#sort is stable, so the per-procedure order survives within each severity.
  return [...changes]
    .sort((a, b) => rank(a) - rank(b))
    .map((c) => `${label(c)}  ${c.procedure}  ${c.where && `${c.where}: `}${c.message}`)
    .join('\n');
}
