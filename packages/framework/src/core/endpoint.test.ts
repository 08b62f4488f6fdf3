import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sp } from '../testing/probe-app.js';
import { describeEndpoints } from './procedures.js';

const resumeHint = /^a tracked stream needs a `lastEventId` field in its input/;

describe('declaring endpoints', () => {
  it('refuses, at definition, a tracked stream whose input cannot carry lastEventId', () => {
    class NoInput extends sp.Endpoint {
      feed = this.subscription({ output: z.string(), tracked: true }, async function* () {});
    }
    class WrongInput extends sp.Endpoint {
      feed = this.subscription({ input: z.object({ room: z.int() }), output: z.string(), tracked: true }, () => {});
    }
    class WrongStream extends sp.Endpoint {
      stream = this.endpointStream({ input: z.object({}).optional(), event: z.string(), tracked: true });
    }
    expect(() => new NoInput()).toThrow(resumeHint);
    expect(() => new WrongInput()).toThrow(resumeHint);
    expect(() => new WrongStream()).toThrow(resumeHint);
  });

  it('accepts a tracked stream with lastEventId, however optional', () => {
    class Feeds extends sp.Endpoint {
      a = this.subscription(
        { input: z.object({ lastEventId: z.string().nullish() }).optional(), output: z.string(), tracked: true },
        () => {},
      );
      stream = this.endpointStream({
        input: z.object({ lastEventId: z.string().optional(), room: z.int() }),
        event: z.string(),
        tracked: true,
      });
    }
    expect(describeEndpoints({ feeds: new Feeds() }).map((d) => [d.path, d.kind, d.tracked, d.public])).toEqual([
      ['feeds.a', 'subscription', true, false],
      ['feeds.stream', 'subscription', true, false],
    ]);
  });

  it('turns an endpoint stream with a message schema into a stream and a mutation, and public per method', () => {
    class Chat extends sp.Endpoint {
      ping = this.query({ output: z.literal('pong'), public: true }, () => 'pong' as const);
      secret = this.mutation({ input: z.string(), output: z.string() }, (_s, text) => text);
      stream = this.endpointStream({
        input: z.object({}).optional(),
        message: z.object({ text: z.string() }),
        event: z.string(),
        handleStreamMessage: () => {},
      });
    }
    expect(describeEndpoints({ chat: new Chat() }).map((d) => [d.path, d.kind, d.public])).toEqual([
      ['chat.ping', 'query', true],
      ['chat.secret', 'mutation', false],
      ['chat.sendStreamMessage', 'mutation', false],
      ['chat.stream', 'subscription', false],
    ]);
  });
});
