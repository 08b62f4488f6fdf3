// streampod: a push subscription (each subscriber a set entry), one OutgoingEvent per
// message, serialized once with superjson. Messages go through a fan-out bus, as the chat
// server's do: in memory, or with `--redis <url>` the Redis bus, where a message published
// on one node reaches the subscribers of every node. With `--rooms`, see `Rooms`: a topic per
// room, and each subscriber's personal stream is its session.
import { createLogger, initStreampod, MemoryFanoutBus, OutgoingEvent, type StreamSession } from '@streampod/framework';
import { RedisFanoutBus, RedisLink } from '@streampod/server';
import { z } from 'zod';
import { messageOf, ROOMS, Rooms, serve } from './common.js';

interface Ctx {
  services: object;
  user: { id: string };
}
type Message = ReturnType<typeof messageOf>;
const sp = initStreampod.context<Ctx>().create();
const watchers = new Set<StreamSession<Ctx, Message>>();
const rooms = ROOMS === undefined ? undefined : new Rooms<StreamSession<Ctx, Message>>(ROOMS);
const Message = z.object({ id: z.int(), roomId: z.int(), senderId: z.int(), content: z.string(), createdAt: z.date() });

class FeedEndpoint extends sp.Endpoint {
  onMessage = this.subscription({ output: Message, public: true }, (session) => {
    if (rooms !== undefined) return void rooms.add(session);
    watchers.add(session);
    session.onClosed(() => void watchers.delete(session));
  });
}

const log = createLogger('silent');
const at = process.argv.indexOf('--redis');
const bus =
  at === -1
    ? new MemoryFanoutBus()
    : await RedisFanoutBus.create({
        link: await RedisLink.connect({ url: process.argv[at + 1]!, log }),
        nodeId: String(process.pid),
        log,
      });
await bus.subscribe<Message>('room:1', (message) => {
  const event = new OutgoingEvent(message);
  for (const watcher of watchers) watcher.send(event);
});
for (let room = 0; room < (ROOMS ?? 0); room++) {
  await bus.subscribe<Message>(`room:r${room}`, (message) => {
    const event = new OutgoingEvent(message);
    for (const watcher of rooms!.room(room)) watcher.send(event);
  });
}

const server = sp.server({
  endpoints: { feed: new FeedEndpoint() },
  services: {},
  logger: log,
  heartbeatIntervalMs: 3_600_000,
  connectionLimits: { maxSubscriptions: 10 },
});
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
serve(port, (i) => {
  if (rooms === undefined) return bus.publish('room:1', messageOf(i));
  bus.publish(`room:r${i % ROOMS!}`, messageOf(i));
  rooms.personal(i).send(new OutgoingEvent(messageOf(i)));
});
