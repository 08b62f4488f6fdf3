/** Refusals another attempt cannot change: only the user can (sign in, edit, join the room). */
const FINAL_CODES = new Set(['BAD_REQUEST', 'FORBIDDEN', 'UNAUTHORIZED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE']);

/** The tRPC error code of a failed call or stream, or `''`. */
export function codeOf(error: Error): string {
  const code = (error as { data?: { code?: unknown } }).data?.code;
  return typeof code === 'string' ? code : '';
}

/** Whether retrying the same request is pointless. */
export function isFinal(error: Error): boolean {
  return FINAL_CODES.has(codeOf(error));
}

export function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
