// streampod: a push subscription (each subscriber a set entry), one OutgoingEvent per
// message, serialized once with superjson.
import { initStreampod, OutgoingEvent, createLogger, type StreamSession } from '@streampod/framework';
import { z } from 'zod';
import { messageOf, serve } from './common.js';

interface Ctx {
  services: object;
  user: { id: string };
}
const sp = initStreampod.context<Ctx>().create();
const watchers = new Set<StreamSession<Ctx, ReturnType<typeof messageOf>>>();
const Message = z.object({ id: z.int(), roomId: z.int(), senderId: z.int(), content: z.string(), createdAt: z.date() });

class FeedEndpoint extends sp.Endpoint {
  onMessage = this.subscription({ output: Message, public: true }, (session) => {
    watchers.add(session);
    session.onClosed(() => void watchers.delete(session));
  });
}

const server = sp.server({
  endpoints: { feed: new FeedEndpoint() },
  services: {},
  logger: createLogger('silent'),
  heartbeatIntervalMs: 3_600_000,
  connectionLimits: { maxSubscriptions: 10 },
});
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
serve(port, (i) => {
  const event = new OutgoingEvent(messageOf(i));
  for (const watcher of watchers) watcher.send(event);
});
