import { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

/** The tRPC code and message a call failed with, as a client sees them; fails the test if it succeeded. */
export async function failureOf(call: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  const error: unknown = await call.then(
    () => {
      throw new Error('the call should have failed');
    },
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCClientError)) throw error;
  return { code: (error as TRPCClientError<AnyTRPCRouter>).data?.code, message: error.message };
}
