import { z } from 'zod';
import { StreamingEndpoint, type StreamSessionOf } from '../core/endpoint.js';
import { fail } from '../core/errors.js';
import { Endpoint } from '../core/endpoint.js';
import { Recorder } from './recorder.js';

const ProbeInput = z
  .object({
    lastEventId: z.string().nullish(),
    refuse: z.boolean().optional(),
    slowOpen: z.boolean().optional(),
    closeInOpen: z.boolean().optional(),
    throwOnClose: z.boolean().optional(),
  })
  .optional();
const ProbeMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('echo'), text: z.string().max(10) }),
  z.object({ kind: z.literal('stamp'), cursor: z.string() }),
  z.object({ kind: z.literal('close') }),
]);
const ProbeEvent = z.object({ text: z.string(), at: z.date() });

type ProbeSession = StreamSessionOf<typeof ProbeEvent, typeof ProbeInput>;

/**
 * A streaming endpoint that records its hooks (`opened:<user>`, `closed:<user>`), for
 * lifecycle tests. Open to anonymous connections so the wire tests need no token.
 */
export class ProbeEndpoint extends StreamingEndpoint<typeof ProbeInput, typeof ProbeMessage, typeof ProbeEvent> {
  readonly hooks = new Recorder<string>();
  /** Resolve to let a `slowOpen` stream finish opening. */
  releaseSlowOpen: () => void = () => undefined;

  constructor() {
    super({ input: ProbeInput, message: ProbeMessage, event: ProbeEvent, tracked: true });
  }

  override get requireLogin(): boolean {
    return false;
  }

  override async streamOpened(session: ProbeSession): Promise<void> {
    if (session.input?.refuse === true) fail('FORBIDDEN', 'not today');
    if (session.input?.slowOpen === true) {
      this.hooks.push('opening');
      await new Promise<void>((resolve) => (this.releaseSlowOpen = resolve));
    }
    this.hooks.push(`opened:${session.resumeFrom ?? '-'}`);
    session.sendStreamMessage({ text: 'welcome', at: new Date(0) });
    if (session.input?.closeInOpen === true) await session.close();
  }

  override streamClosed(session: ProbeSession): void {
    this.hooks.push(`closed:${session.isOpen ? 'open?!' : 'ok'}`);
    if (session.input?.throwOnClose === true) throw new Error('streamClosed failed on purpose');
  }

  override async handleStreamMessage(session: ProbeSession, message: z.output<typeof ProbeMessage>): Promise<void> {
    switch (message.kind) {
      case 'echo':
        session.sendStreamMessage({ text: message.text, at: new Date(1) });
        return;
      case 'stamp':
        session.sendStreamMessage({ text: `stamp ${message.cursor}`, at: new Date(2) }, { cursor: message.cursor });
        return;
      case 'close':
        await session.close();
        return;
    }
  }
}

/** A plain endpoint with one call and one streaming method, for router tests. */
export class CounterEndpoint extends Endpoint {
  override get requireLogin(): boolean {
    return false;
  }

  add = this.query({ input: z.object({ a: z.int(), b: z.int() }), output: z.int() }, (_session, { a, b }) => a + b);

  count = this.stream(
    { input: z.object({ to: z.int().min(1).max(100) }), output: z.int() },
    async function* (_s, { to }) {
      for (let i = 1; i <= to; i++) yield i;
    },
  );

  /** Records `ticker:finally` when a ticker's generator is torn down. */
  readonly events = new Recorder<string>();

  /** Yields forever (one value per macrotask) until stopped. */
  ticker = this.stream({ output: z.int() }, (_s) => {
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

  /** Fails the way a bug would, with a message that must not reach the client. */
  boom = this.query({ output: z.int() }, () => {
    throw new Error('relation "secret_table" does not exist');
  });

  /** A push stream: registers the session, sends a first event, cleans up on close. */
  readonly watchers = new Set<object>();
  watch = this.push({ output: z.string() }, (session) => {
    this.watchers.add(session);
    session.onClosed(() => {
      this.watchers.delete(session);
      this.events.push('watch:closed');
    });
    session.sendStreamMessage('watching');
  });
}
