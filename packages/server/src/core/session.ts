import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import type { AuthenticatedUser, Connection } from './connection.js';
import { fail } from './errors.js';
import { OutgoingEvent } from './outgoing-event.js';
import type { Services } from './services.js';

/** What the server gives every session: the same objects for all of them. */
export interface SessionRuntime {
  readonly db: Kysely<DB>;
  readonly log: Logger;
  readonly services: Services;
}

/**
 * The context of one call: who is calling, over which connection, with the logger and the
 * database. Endpoints get one as their first argument.
 */
export class Session {
  /** Structured logger bound to this call's path, connection and user. */
  readonly log: Logger;

  constructor(
    protected readonly runtime: SessionRuntime,
    readonly connection: Connection,
    /** The procedure path, e.g. `users.me`. */
    readonly path: string,
  ) {
    this.log = runtime.log.child({ path, conn: connection.id, user: connection.owner?.id });
  }

  /** The signed-in user, or null. */
  get user(): AuthenticatedUser | null {
    return this.connection.user;
  }

  /** The signed-in user's id; fails the call with `UNAUTHORIZED` without one. */
  get userId(): number {
    const user = this.connection.user;
    return user === null ? fail('UNAUTHORIZED', 'sign in first') : user.id;
  }

  get db(): Kysely<DB> {
    return this.runtime.db;
  }

  /** The server's services (tokens, presence, chat…), shared by every session. */
  get services(): Services {
    return this.runtime.services;
  }
}

/** Where a streaming session's events go: the transport's end of one subscription. */
export interface StreamSink {
  /** Sends an event; `eventId` is its tracked id when the stream is tracked. */
  send(event: OutgoingEvent, eventId: string | undefined): void;
  /** Ends the subscription from the server side. */
  end(): void;
}

/** Separates a tracked event id's cursor from its per-stream sequence number. */
const CURSOR_SEPARATOR = '~';

/**
 * A session that lives as long as its stream: from `streamOpened` to `streamClosed`,
 * which runs exactly once however the stream ends.
 */
export class StreamingSession<TEvent, TInput = unknown> extends Session {
  readonly #abort = new AbortController();
  readonly #sink: StreamSink;
  readonly #tracked: boolean;
  #cursor: string | undefined;
  #seq = 0;
  #onClose: (() => Promise<void>) | undefined;
  #closing: Promise<void> | undefined;

  constructor(opts: {
    runtime: SessionRuntime;
    connection: Connection;
    path: string;
    input: TInput;
    sink: StreamSink;
    tracked: boolean;
    resumeFrom: string | undefined;
  }) {
    super(opts.runtime, opts.connection, opts.path);
    this.input = opts.input;
    this.#sink = opts.sink;
    this.#tracked = opts.tracked;
    this.#cursor = opts.resumeFrom;
    this.resumeFrom = opts.resumeFrom;
  }

  /** @internal resolves true once `streamOpened` succeeded, false if it threw. */
  opened: Promise<boolean> = Promise.resolve(true);

  /** The validated stream input. */
  readonly input: TInput;

  /** Aborted once the stream has begun closing. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get isOpen(): boolean {
    return !this.#abort.signal.aborted;
  }

  /**
   * Where the client asked to resume: the cursor part of the `lastEventId` it sent, or
   * undefined for a fresh stream.
   */
  readonly resumeFrom: string | undefined;

  /**
   * Sends one event to this stream's client. In a tracked stream, pass `cursor` for events
   * that resumption can replay (e.g. a stored message's id); other events get an id that
   * keeps the current cursor, so resuming after them replays exactly what was missed.
   */
  sendStreamMessage(message: TEvent, opts?: { cursor?: string }): void {
    this.send(new OutgoingEvent(message, opts?.cursor));
  }

  /** Sends an event built once for many subscribers (see `OutgoingEvent`). */
  send(event: OutgoingEvent): void {
    if (!this.isOpen) return;
    if (!this.#tracked) {
      this.#sink.send(event, undefined);
      return;
    }
    if (event.id !== undefined) {
      this.#cursor = event.id;
      this.#seq = 0;
      this.#sink.send(event, event.id);
      return;
    }
    this.#sink.send(event, `${this.#cursor ?? '0'}${CURSOR_SEPARATOR}${++this.#seq}`);
  }

  /** Ends the stream from the server: `streamClosed` runs, the client sees it stop. */
  close(): Promise<void> {
    return this.closeWith(() => this.#sink.end());
  }

  /** @internal the transport's way in: ends the stream, running `streamClosed` once. */
  closeWith(afterClosed?: () => void): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      try {
        await this.#onClose?.();
      } finally {
        afterClosed?.();
      }
    })();
    return this.#closing;
  }

  /** @internal set by the endpoint runner: runs `streamClosed` and unregisters. */
  set onClose(fn: () => Promise<void>) {
    this.#onClose = fn;
  }
}

/** The cursor part of a tracked event id (`"42~3"` → `"42"`). */
export function cursorOf(eventId: string | null | undefined): string | undefined {
  if (eventId === null || eventId === undefined || eventId === '') return undefined;
  const i = eventId.indexOf(CURSOR_SEPARATOR);
  const cursor = i === -1 ? eventId : eventId.slice(0, i);
  return cursor === '0' || cursor === '' ? undefined : cursor;
}
