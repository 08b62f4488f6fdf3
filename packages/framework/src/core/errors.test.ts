import { TRPCError } from '@trpc/server';
import { expect, it } from 'vitest';
import { rpcError } from './errors.js';

it('a refusal carries its code and message without a stack; a server error keeps its stack', () => {
  const refusal = rpcError('TOO_MANY_REQUESTS', 'chat.sendMessage: too many');
  expect(refusal).toBeInstanceOf(TRPCError);
  expect(refusal).toMatchObject({ code: 'TOO_MANY_REQUESTS', message: 'chat.sendMessage: too many' });
  expect(refusal.stack).not.toContain('errors.test.ts');
  const broken = rpcError('INTERNAL_SERVER_ERROR', 'the database went away', new Error('ECONNRESET'));
  expect(broken.stack).toContain('errors.test.ts');
  expect(broken.cause).toMatchObject({ message: 'ECONNRESET' });
  // Errors made after a refusal still have their stacks.
  expect(new Error('later').stack).toContain('errors.test.ts');
});
