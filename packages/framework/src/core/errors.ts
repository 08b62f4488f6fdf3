import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

/** Throw from an endpoint to fail the call with a tRPC error code the client sees. */
export function fail(code: TRPC_ERROR_CODE_KEY, message: string, cause?: unknown): never {
  throw rpcError(code, message, cause);
}

/** The error `fail` throws, to hand over instead (`StreamSession.fail` ends a stream with it). */
export function rpcError(code: TRPC_ERROR_CODE_KEY, message: string, cause?: unknown): Error {
  if (code === 'INTERNAL_SERVER_ERROR') return new TRPCError({ code, message, cause });
  // A refusal is the caller's doing and is never logged with a stack: capturing one was a
  // tenth of a refused call's CPU (a flood of refusals is when that counts).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new TRPCError({ code, message, cause });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

interface IssueLike {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
}

function isIssueList(value: unknown): value is IssueLike[] {
  return (
    Array.isArray(value) &&
    value.every((i: unknown) => typeof i === 'object' && i !== null && 'path' in i && 'message' in i)
  );
}

/**
 * Validation failures from zod (or any Standard Schema) as `{ path, message }` pairs,
 * or null when `cause` is not a validation failure.
 */
export function validationIssues(cause: unknown): { path: string; message: string }[] | null {
  if (typeof cause !== 'object' || cause === null || !('issues' in cause)) return null;
  const { issues } = cause;
  if (!isIssueList(issues)) return null;
  return issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(input)',
    message: issue.message,
  }));
}

/** `roomId: Invalid input: expected number, received string; …`: names every bad field. */
export function formatIssues(issues: { path: string; message: string }[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
