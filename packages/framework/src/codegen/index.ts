/** Code generation and contract checks for apps built on streampod. */
export { runCodegen } from './run.js';
export type { CodegenTarget } from './run.js';
export { generateClientSource } from './generate-client.js';
export type { GenerateClientOptions } from './generate-client.js';
export { generateApiReference } from './api-reference.js';
export { contractSnapshot, toJsonSchema } from './contract-snapshot.js';
export { diffContracts, formatChanges } from './contract-diff.js';
export type { ContractChange, ContractSnapshot, JsonSchema, ProcedureContract } from './contract-types.js';
export { schemaNamesOf, resolveSchemaNames } from './schema-names.js';
