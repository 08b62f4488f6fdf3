// A consumer of the published packages, outside the workspace: a tiny app of its own on
// @streampod/framework, its client on @streampod/client/runtime, and the chat server's
// client from @streampod/client. Type-checked strict (bundler and NodeNext), then run.
import { initStreampod } from '@streampod/framework';
import { createApiClient, type CallProcedure, type StreamProcedure } from '@streampod/client/runtime';
import { createStreampodClient, type ChatUser, type StreampodClient } from '@streampod/client';
import { z } from 'zod';

interface HelloContext {
  services: { greeting: string };
  user: { id: string };
}
const sp = initStreampod.context<HelloContext>().create();

class HelloEndpoint extends sp.Endpoint {
  greet = this.query(
    { input: z.object({ name: z.string() }), output: z.string(), public: true },
    (session, { name }) => `${session.services.greeting}, ${name}`,
  );
  count = this.subscription(
    { input: z.object({ to: z.int().max(10) }), output: z.int(), public: true },
    async function* (_session, { to }) {
      for (let i = 1; i <= to; i++) yield i;
    },
  );
}

interface HelloApi {
  hello: {
    greet: CallProcedure<'query', { name: string }, string>;
    count: StreamProcedure<{ to: number }, number, false>;
  };
}
const helloManifest = {
  hello: { greet: { kind: 'query', tracked: false }, count: { kind: 'subscription', tracked: false } },
} as const;

/** Never called: the compiler must refuse these. */
export function typeErrors(client: ReturnType<typeof createApiClient<HelloApi>>, chat: StreampodClient) {
  // @ts-expect-error greet takes { name }
  void client.hello.greet({ nom: 'x' });
  // @ts-expect-error count yields numbers
  client.hello.count({ to: 1 }).listen({ onData: (n: string) => n });
  // @ts-expect-error users.me takes no input and returns a ChatUser
  const wrong: string = chat.users.me();
  return wrong;
}

const server = sp.server({
  endpoints: { hello: new HelloEndpoint() },
  services: { greeting: 'hello' },
  authenticate: () => Promise.resolve(null),
});
const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
// No WebSocket class passed: on Node 20 the runtime finds `ws` by itself.
const hello = createApiClient<HelloApi>(helloManifest, { url });
const greeting = await hello.hello.greet({ name: 'npm' });
const counted: number[] = [];
for await (const n of hello.hello.count({ to: 3 })) counted.push(n);
await hello.close();
await server.close();

const chatUrl = process.env['CHAT_URL'];
if (chatUrl === undefined) throw new Error('CHAT_URL is not set');
const anonymous = createStreampodClient({ url: chatUrl });
const { token } = await anonymous.auth.register({ username: `npm${Date.now() % 100000}`, password: 'a long password' });
await anonymous.close();
const chat = createStreampodClient({ url: chatUrl, token });
const me: ChatUser = await chat.users.me();
await chat.close();

console.log(JSON.stringify({ greeting, counted, me: me.username.startsWith('npm') }));
