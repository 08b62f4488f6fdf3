import { fail } from '@streampod/framework';
import { sp } from './counter-app.js';
import { Counter, CounterInput, IncrementInput, RoomEvent, RoomInput, RoomMessage } from './schemas.js';

/** Named counters: read one, add to one, watch one change. */
export class CounterEndpoint extends sp.Endpoint {
  get = this.query(
    {
      input: CounterInput,
      output: Counter,
      public: true,
      description: 'A counter as it is now (0 if nobody counted yet).',
    },
    (session, { name }) => session.services.counters.get(name),
  );

  increment = this.mutation(
    { input: IncrementInput, output: Counter, description: 'Adds to a counter; signed-in people only.' },
    (session, { name, by }) => {
      const who = session.user?.name ?? fail('UNAUTHORIZED', 'sign in first');
      return session.services.counters.increment(name, by, who);
    },
  );

  watch = this.subscription(
    {
      input: CounterInput,
      output: Counter,
      public: true,
      description: 'The counter now, then every change, for as long as the client listens.',
    },
    // Push style: the handler registers the session and returns; `counters` sends to it.
    (session, { name }) => {
      const { counters } = session.services;
      counters.watch(name, session);
      session.sendStreamMessage(counters.get(name));
    },
  );
}

/** Cheer rooms, Serverpod-style: one stream per room with hooks, and messages up the same endpoint. */
export class RoomEndpoint extends sp.Endpoint {
  stream = this.endpointStream({
    input: RoomInput,
    message: RoomMessage,
    event: RoomEvent,
    description: 'Who joins and leaves a room, and their cheers.',
    messageDescription: 'Cheers in every room this connection has open.',
    streamOpened: (session) => {
      const { rooms } = session.services;
      const here = rooms.join(session.input.room, session);
      rooms.broadcast(session.input.room, { type: 'joined', who: session.user?.name ?? 'someone', here });
    },
    streamClosed: (session) => {
      const { rooms } = session.services;
      rooms.leave(session.input.room, session);
      rooms.broadcast(session.input.room, { type: 'left', who: session.user?.name ?? 'someone' });
    },
    handleStreamMessage: (session, message) => {
      if (session.streams.length === 0) fail('PRECONDITION_FAILED', 'open room.stream first');
      const who = session.user?.name ?? 'someone';
      for (const stream of session.streams) {
        session.services.rooms.broadcast(stream.input.room, { type: 'cheer', who, text: message.text });
      }
    },
  });
}

/** The app's endpoints, by the name each is called under. */
export const endpoints = { counter: new CounterEndpoint(), room: new RoomEndpoint() };
