import { z } from 'zod';
import { fail } from '../core/errors.js';
import type { EndpointMap } from '../core/endpoint.js';
import type { StreamSession } from '../core/session.js';
import type { StreampodServerOptions } from '../host/server.js';
import { initStreampod } from '../init.js';
import { startTestServer } from './test-server.js';
import { Recorder } from './recorder.js';

/** What the probe app's endpoints see: a user is `{ id, name }`. */
export interface ProbeContext {
  services: { greeting: string };
  user: { id: string; name: string };
}

/** A small app for the framework's own tests; a token is `token:<id>`. */
export const sp = initStreampod.context<ProbeContext>().create();

/** A test server for the probe app's endpoints, signing in `token:<id>`, greeting `hello`. */
export function startProbeServer(options: Partial<StreampodServerOptions<ProbeContext>> & { endpoints: EndpointMap }) {
  return startTestServer(sp, { services: { greeting: 'hello' }, authenticate: authenticateProbe, ...options });
}

/** `token:<id>` signs in as that user, for an hour; anything else is nobody. */
export function authenticateProbe(token: string) {
  const id = /^token:(\w+)$/.exec(token)?.[1];
  return Promise.resolve(
    id === undefined ? null : { user: { id, name: `user ${id}` }, expiresAt: Date.now() + 3_600_000 },
  );
}

const ProbeInput = z
  .object({
    lastEventId: z.string().nullish(),
    refuse: z.boolean().optional(),
    slowOpen: z.boolean().optional(),
    closeInOpen: z.boolean().optional(),
    /** Sends an event that cannot be serialized while opening, before the welcome. */
    poisonInOpen: z.boolean().optional(),
    throwOnClose: z.boolean().optional(),
  })
  .optional();
const ProbeMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('echo'), text: z.string().max(10) }),
  z.object({ kind: z.literal('stamp'), cursor: z.string() }),
  z.object({ kind: z.literal('close') }),
]);
const ProbeEvent = z.object({ text: z.string(), at: z.date() });

/** An event whose value throws when it is serialized (a getter that fails). */
function unserializable(): z.input<typeof ProbeEvent> {
  const event = { text: 'poison', at: new Date(0) };
  Object.defineProperty(event, 'poison', {
    enumerable: true,
    get: () => {
      throw new Error('this value does not serialize');
    },
  });
  return event;
}

/**
 * An endpoint-level stream that records its hooks (`opened:<resumeFrom>`, `closed:ok`), for
 * lifecycle tests. Public, so the wire tests need no token.
 */
export class ProbeEndpoint extends sp.Endpoint {
  readonly hooks = new Recorder<string>();
  /** Resolve to let a `slowOpen` stream finish opening. */
  releaseSlowOpen: () => void = () => undefined;

  stream = this.endpointStream({
    input: ProbeInput,
    message: ProbeMessage,
    event: ProbeEvent,
    tracked: true,
    public: true,
    streamOpened: async (session) => {
      if (session.input?.refuse === true) fail('FORBIDDEN', 'not today');
      if (session.input?.slowOpen === true) {
        this.hooks.push('opening');
        await new Promise<void>((resolve) => (this.releaseSlowOpen = resolve));
      }
      this.hooks.push(`opened:${session.resumeFrom ?? '-'}`);
      if (session.input?.poisonInOpen === true) session.sendStreamMessage(unserializable());
      session.sendStreamMessage({ text: 'welcome', at: new Date(0) });
      if (session.input?.closeInOpen === true) await session.close();
    },
    streamClosed: (session) => {
      this.hooks.push(`closed:${session.isOpen ? 'open?!' : 'ok'}`);
      if (session.input?.throwOnClose === true) throw new Error('streamClosed failed on purpose');
    },
    handleStreamMessage: async (session, message) => {
      if (session.streams.length === 0) fail('PRECONDITION_FAILED', 'open probe.stream on this connection first');
      for (const stream of session.streams) {
        switch (message.kind) {
          case 'echo':
            stream.sendStreamMessage({ text: message.text, at: new Date(1) });
            break;
          case 'stamp':
            stream.sendStreamMessage({ text: `stamp ${message.cursor}`, at: new Date(2) }, { cursor: message.cursor });
            break;
          case 'close':
            await stream.close();
            break;
        }
      }
    },
  });
}

/** Calls and subscriptions of both styles, for router and wire tests. */
export class CounterEndpoint extends sp.Endpoint {
  add = this.query(
    { input: z.object({ a: z.int(), b: z.int() }), output: z.int(), public: true },
    (_session, { a, b }) => a + b,
  );

  /** Who is calling: a signed-in user only. */
  whoami = this.query(
    { output: z.string() },
    (session) => `${session.services.greeting}, ${session.user?.name ?? '?'}`,
  );

  count = this.subscription(
    { input: z.object({ to: z.int().min(1).max(100) }), output: z.int(), public: true },
    async function* (_session, { to }) {
      for (let i = 1; i <= to; i++) yield i;
    },
  );

  /** Records `ticker:finally` when a ticker's generator is torn down, `watch:opened` and `watch:closed` for `watch`. */
  readonly events = new Recorder<string>();

  /** Yields forever (one value per macrotask) until stopped. */
  ticker = this.subscription({ output: z.int(), public: true }, () => {
    const events = this.events;
    return (async function* () {
      try {
        for (let i = 0; ; i++) {
          yield i;
          await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        events.push('ticker:finally');
      }
    })();
  });

  /** Fails half-way, the way a bug would. */
  broken = this.subscription({ output: z.int(), public: true }, async function* () {
    yield 1;
    throw new Error('the generator broke');
  });

  /** Fails the way a bug would, with a message that must not reach the client. */
  boom = this.query({ output: z.int(), public: true }, () => {
    throw new Error('relation "secret_table" does not exist');
  });

  /** Calls of `slow` waiting for `releaseSlow()`. */
  readonly slowCalls = new Recorder<string>();
  #releaseSlow = new Set<() => void>();
  /** Answers once `releaseSlow()` is called: a call that stays in flight. */
  slow = this.query({ output: z.literal('done'), public: true }, async () => {
    await new Promise<void>((resolve) => {
      this.#releaseSlow.add(resolve);
      this.slowCalls.push('waiting');
    });
    return 'done' as const;
  });
  releaseSlow(): void {
    for (const release of this.#releaseSlow) release();
    this.#releaseSlow.clear();
  }

  /** A push subscription: registers the session, sends a first event, cleans up on close. */
  readonly watchers = new Set<StreamSession<ProbeContext, string>>();
  watch = this.subscription({ output: z.string(), public: true }, (session) => {
    this.watchers.add(session);
    this.events.push('watch:opened');
    session.onClosed(() => {
      this.watchers.delete(session);
      this.events.push('watch:closed');
    });
    session.sendStreamMessage('watching');
  });
}
