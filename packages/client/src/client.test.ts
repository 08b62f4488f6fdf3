import type { ChatUser } from '@streampod/protocol';
import { describe, expectTypeOf, it } from 'vitest';
import { createStreampodClient } from './client.js';

describe('the chat client', () => {
  it('types every call from the protocol', () => {
    const client = createStreampodClient({ url: 'http://127.0.0.1:1' });
    expectTypeOf(client.users.me).toEqualTypeOf<() => Promise<ChatUser>>();
    expectTypeOf(client.auth.login)
      .parameter(0)
      .toEqualTypeOf<{ username: string; password: string; refresh?: boolean | undefined }>();
    void client.close();
  });
});
