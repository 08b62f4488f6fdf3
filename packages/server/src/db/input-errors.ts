import { rpcError } from '@streampod/framework';

/**
 * SQLSTATEs that mean "the input cannot be stored as given", not "the server is broken":
 * bytes the encoding refuses (a NUL, say), text too long for a column or an index. (A number
 * out of range is left an internal error: it may be the server's own arithmetic.) The protocol's schemas refuse these first; this is the net under them.
 */
const INPUT_STATES: Record<string, string> = {
  '22021': 'text with bytes the database cannot store (a NUL character, say)',
  '22P05': 'text with characters the database cannot store',
  '22001': 'text longer than the database stores',
  '54000': 'a value too large for the database to index',
};

/** A database error caused by what the caller sent, as a BAD_REQUEST; anything else: undefined. */
export function databaseInputError(error: unknown): Error | undefined {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  const what = typeof code === 'string' ? INPUT_STATES[code] : undefined;
  return what === undefined ? undefined : rpcError('BAD_REQUEST', `the input holds ${what}`, error);
}
