/** The API contract snapshot and its differences, as `pnpm contract:check` reads and reports them. */

/** A JSON Schema (draft 2020-12) as emitted by `z.toJSONSchema`. */
export type JsonSchema = { [key: string]: unknown } | boolean;

/** The contract of one procedure. */
export interface ProcedureContract {
  kind: 'query' | 'mutation' | 'subscription';
  /** `null` when the procedure takes no input. */
  input: JsonSchema | null;
  /** For subscriptions: the schema of one event. */
  output: JsonSchema;
  /** Subscriptions: whether events carry resumable ids (absent in snapshots from before it was recorded). */
  tracked?: boolean;
}

/** The committed snapshot of the whole API contract. */
export interface ContractSnapshot {
  version: 1;
  procedures: Record<string, ProcedureContract>;
}

/** One classified difference between two snapshots. */
export interface ContractChange {
  severity: 'breaking' | 'compatible';
  procedure: string;
  /** Dotted path into the procedure contract, e.g. `input.properties.roomId`. */
  where: string;
  message: string;
}
