import type { Logger } from 'pino';
import type { Connection, Credentials, UserLike } from './connection.js';
import { fail } from './errors.js';
import { OutgoingEvent } from './outgoing-event.js';

/** What an app gives the framework: the services its endpoints reach, and its user type. */
export interface AppContext {
  readonly services: object;
  readonly user: UserLike;
}

/** What the server gives every session: the same objects for all of them. */
export interface SessionRuntime<TCtx extends AppContext = AppContext> {
  readonly log: Logger;
  readonly services: TCtx['services'];
  /** Gives a connection the credentials of a new token of the same user (see `Session.renew`). */
  // Of the base types: a parameter of the app's user type would make sessions of different apps' users incompatible.
  readonly renew?: (connection: Connection, credentials: Credentials) => void;
}

/**
 * A procedure as its sessions see it: made once per procedure, so a session holds one field
 * for both.
 */
export interface CallSite<TCtx extends AppContext = AppContext> {
  readonly runtime: SessionRuntime<TCtx>;
  /** The procedure path, e.g. `users.me`. */
  readonly path: string;
}

/** Sessions' loggers, made on first use: most sessions never log, and a field on each is 8 bytes. */
const loggers = new WeakMap<object, Logger>();

/**
 * The context of one call: who is calling, over which connection, with the logger and
 * the app's services. Endpoints get one as their first argument.
 */
export class Session<TCtx extends AppContext = AppContext> {
  constructor(
    protected readonly site: CallSite<TCtx>,
    readonly connection: Connection<TCtx['user']>,
  ) {}

  /** The procedure path, e.g. `users.me`. */
  get path(): string {
    return this.site.path;
  }

  /** Structured logger bound to this call's path, connection and user. */
  get log(): Logger {
    let log = loggers.get(this);
    if (log === undefined) {
      log = this.site.runtime.log.child({ path: this.path, conn: this.connection.id, user: this.connection.owner?.id });
      loggers.set(this, log);
    }
    return log;
  }

  /** The signed-in user, or null. */
  get user(): TCtx['user'] | null {
    return this.connection.user;
  }

  /** The signed-in user's id; fails the call with `UNAUTHORIZED` without one. */
  get userId(): TCtx['user']['id'] {
    const user = this.connection.user;
    return user === null ? fail('UNAUTHORIZED', 'sign in first') : user.id;
  }

  /** The app's services, shared by every session. */
  get services(): TCtx['services'] {
    return this.site.runtime.services;
  }

  /**
   * Moves this call's WebSocket onto a new token of the same user (a refreshed one): it stays
   * open past the old token's expiry, and signing the new token out is what closes it. Over
   * HTTP, or for another user, it does nothing: each HTTP call brings its own token.
   */
  renew(credentials: Credentials<TCtx['user']>): void {
    if (this.connection.owner?.id !== credentials.user.id) return;
    this.site.runtime.renew?.(this.connection, credentials);
  }
}

/**
 * Where streaming sessions' events go: the transport's end of its subscriptions. One sink
 * serves many streams (all of a connection's, say), told apart by the key the transport
 * opened each with: no object per subscription on the transport's side, nor a field more
 * than the key on the stream's.
 */
export interface StreamSink<K = unknown> {
  /** Sends an event; `eventId` is its tracked id when the stream is tracked. */
  send(key: K, event: OutgoingEvent, eventId: string | undefined): void;
  /**
   * The stream has opened (not called when opening fails): the client may be told, what was
   * sent while it opened may go out. Returns the key to use from now on. It must not throw
   * (it runs inside the stream's opening step): what fails in it is the sink's to report.
   */
  opened(key: K, handle: StreamHandle): K;
  /** The stream has ended, stopped by either side: the client is told it stopped. */
  end(key: K): void;
  /** Ends the subscription with an error the client sees. */
  error(key: K, cause: unknown): void;
}

/** The open end of a push stream, for the transport that opened it. */
export interface StreamHandle {
  /** The procedure path, for the errors the stream may end with. */
  readonly path: string;
  /** Ends the stream from the client side (stop or disconnect); resolves once closed. */
  stop(): Promise<void>;
}

/** Separates a tracked event id's cursor from its per-stream sequence number. */
const CURSOR_SEPARATOR = '~';

type MaybePromise<T> = T | Promise<T>;
/** A close callback, and what it is called with (see `onClosed`). */
type CloseCallback = (arg: never) => MaybePromise<void>;

/** Every opened stream's `opened`, once it has opened; and every failed one's. */
const OPENED = Promise.resolve(true);
const NOT_OPENED = Promise.resolve(false);

/** A stream session's states, one number for the two: each field is 8 bytes on every stream. */
const CLOSING = 1;
const OPENING = 2;

/** What few streams need, or only once they close: one field on every stream instead of three. */
interface Rare {
  /** Made when first asked for (`signal`): an AbortController costs ~0.8 KB, and most streams never ask. */
  abort?: AbortController;
  closed?: Promise<void>;
  resumeFrom?: string;
}

/** What a stream session is made of (see `StreamSession.create`). */
export interface StreamSessionOptions<TCtx extends AppContext, TInput> {
  site: CallSite<TCtx>;
  connection: Connection<TCtx['user']>;
  input: TInput;
  sink: StreamSink;
  /** What tells this stream apart to its sink. */
  key: unknown;
  /** Its events carry ids a client can resume from (see `sendStreamMessage`). */
  tracked: boolean;
  resumeFrom: string | undefined;
}

/**
 * A session that lives as long as its stream: from the moment it opens (`streamOpened`, or
 * a subscription's handler) to its close, whose callbacks (`streamClosed`, `onClosed`) run
 * exactly once however the stream ends.
 */
export class StreamSession<
  TCtx extends AppContext = AppContext,
  TEvent = unknown,
  TInput = unknown,
> extends Session<TCtx> {
  /** CLOSING (read once per event sent), OPENING. */
  #flags = 0;
  readonly #sink: StreamSink;
  /** Which of its streams this is, to the sink. */
  #key: unknown;
  /**
   * One callback (its argument beside it), or several as callback, argument, callback, …:
   * most streams register one, and an array costs 150 bytes.
   */
  #closeCallbacks: CloseCallback | unknown[] | undefined;
  #closeArg: unknown;
  #opened: Promise<boolean> = OPENED;
  #rare: Rare | undefined;

  /** A tracked stream's session keeps its cursor; an untracked one has no fields for it. */
  static create<TCtx extends AppContext, TEvent, TInput>(
    opts: StreamSessionOptions<TCtx, TInput>,
  ): StreamSession<TCtx, TEvent, TInput> {
    return opts.tracked ? new TrackedStreamSession(opts) : new StreamSession(opts);
  }

  protected constructor(opts: StreamSessionOptions<TCtx, TInput>) {
    super(opts.site, opts.connection);
    this.input = opts.input;
    this.#sink = opts.sink;
    this.#key = opts.key;
    if (opts.resumeFrom !== undefined) this.#rare = { resumeFrom: opts.resumeFrom };
  }

  /** The validated stream input. */
  readonly input: TInput;

  /**
   * Where the client asked to resume: the cursor part of the `lastEventId` it sent, or
   * undefined for a fresh stream.
   */
  get resumeFrom(): string | undefined {
    return this.#rare?.resumeFrom;
  }

  /** Aborted once the stream has begun closing. */
  get signal(): AbortSignal {
    const rare = (this.#rare ??= {});
    if (rare.abort === undefined) {
      rare.abort = new AbortController();
      if (!this.isOpen) rare.abort.abort();
    }
    return rare.abort.signal;
  }

  get isOpen(): boolean {
    return (this.#flags & CLOSING) === 0;
  }

  /** Resolves true once the stream has opened, false when opening failed. */
  get opened(): Promise<boolean> {
    return this.#opened;
  }

  /**
   * Sends one event to this stream's client. In a tracked stream, pass `cursor` for events
   * that resumption can replay (e.g. a stored message's id); other events get an id that
   * keeps the current cursor, so resuming after them replays exactly what was missed.
   */
  sendStreamMessage(message: TEvent, opts?: { cursor?: string }): void {
    this.send(new OutgoingEvent(message, opts?.cursor));
  }

  /**
   * Sends an event built once for many subscribers (see `OutgoingEvent`). On a tracked
   * stream, `eventId` is its tracked id when the endpoint keeps positions of its own;
   * otherwise the id follows the cursor (see `sendStreamMessage`).
   */
  send(event: OutgoingEvent, eventId?: string): void {
    if (this.isOpen) this.#sink.send(this.#key, event, this.idOf(event, eventId));
  }

  /** The id an event goes out with: none on an untracked stream. */
  protected idOf(_event: OutgoingEvent, _eventId: string | undefined): string | undefined {
    return undefined;
  }

  /**
   * Sets the tracked cursor without sending anything: later events without an id of their
   * own resume from it (a fresh stream starting at "now", say). An untracked stream has none.
   */
  moveCursor(_cursor: string): void {
    // Overridden by a tracked stream's session.
  }

  /**
   * Runs `callback` once when the stream closes, if it opened: cleanup for whatever the
   * stream registered (a watcher, a subscription). Callbacks run in registration order.
   * With `arg`, it is called with it: one function shared by every stream of a service
   * then serves them all, where a closure or a bound function per stream would cost ~80 bytes.
   */
  onClosed(callback: () => MaybePromise<void>): void;
  onClosed<A>(callback: (arg: A) => MaybePromise<void>, arg: A): void;
  onClosed(callback: CloseCallback, arg?: unknown): void {
    const callbacks = this.#closeCallbacks;
    if (callbacks === undefined) {
      this.#closeCallbacks = callback;
      this.#closeArg = arg;
    } else if (typeof callbacks === 'function') {
      this.#closeCallbacks = [callbacks, this.#closeArg, callback, arg];
      this.#closeArg = undefined;
    } else callbacks.push(callback, arg);
  }

  /**
   * Ends the stream from the server: close callbacks run, the client sees it stop. Called
   * while the stream is still opening, it does not wait: the stream closes as soon as it
   * has opened.
   */
  close(): Promise<void> {
    const closed = this.closeOnce(() => this.#sink.end(this.#key));
    return (this.#flags & OPENING) !== 0 ? Promise.resolve() : closed;
  }

  /** Ends the stream with an error the client sees (its close callbacks run, once). */
  fail(cause: unknown): void {
    void this.closeOnce(() => this.#sink.error(this.#key, cause));
  }

  /** @internal runs `open` as the stream's opening step (`streamOpened`, a subscription's handler). */
  open(run: () => MaybePromise<void>): Promise<void> {
    const opening = Promise.resolve().then(run);
    this.#flags |= OPENING;
    // Once opened (or not), the shared settled promise stands in for this stream's own. A
    // closure, not a private method: one of those costs every instance a slot for its brand.
    const settle = (outcome: Promise<boolean>) => {
      this.#flags &= ~OPENING;
      // Before anything awaiting `opened` runs: a close it asks for reaches the sink after this.
      if (outcome === OPENED) this.#key = this.#sink.opened(this.#key, this);
      this.#opened = outcome;
      return outcome;
    };
    this.#opened = opening.then(
      () => settle(OPENED),
      () => settle(NOT_OPENED),
    );
    return opening;
  }

  /** @internal the transport's handle (see `StreamHandle`): the client stopped or went away. */
  stop(): Promise<void> {
    return this.closeOnce(() => this.#sink.end(this.#key));
  }

  /**
   * @internal the transport's way in: ends the stream once, whoever asks first. Waits for
   * the opening step, so a stop during it still runs the close callbacks; a callback that
   * throws is logged and the others still run.
   */
  closeOnce(afterClosed?: () => void): Promise<void> {
    const rare = (this.#rare ??= {});
    rare.closed ??= (async () => {
      this.#flags |= CLOSING;
      rare.abort?.abort();
      // Read once opened: the opening step may register callbacks while this waits.
      const opened = await this.#opened;
      const callbacks = this.#closeCallbacks;
      if (opened && callbacks !== undefined) {
        const pairs = typeof callbacks === 'function' ? [callbacks, this.#closeArg] : callbacks;
        for (let i = 0; i < pairs.length; i += 2) {
          try {
            await (pairs[i] as (arg: unknown) => MaybePromise<void>)(pairs[i + 1]);
          } catch (error) {
            this.log.error({ err: error }, 'a stream close callback failed');
          }
        }
      }
      afterClosed?.();
    })();
    return rare.closed;
  }
}

/** The session of a tracked stream: the cursor its events' ids carry, and their sequence since it last moved. */
class TrackedStreamSession<TCtx extends AppContext, TEvent, TInput> extends StreamSession<TCtx, TEvent, TInput> {
  #cursor: string | undefined;
  #seq = 0;

  constructor(opts: StreamSessionOptions<TCtx, TInput>) {
    super(opts);
    this.#cursor = opts.resumeFrom;
  }

  protected override idOf(event: OutgoingEvent, eventId: string | undefined): string {
    if (eventId !== undefined) return eventId;
    if (event.id !== undefined) {
      this.#cursor = event.id;
      this.#seq = 0;
      return event.id;
    }
    return `${this.#cursor ?? '0'}${CURSOR_SEPARATOR}${++this.#seq}`;
  }

  override moveCursor(cursor: string): void {
    this.#cursor = cursor;
    this.#seq = 0;
  }
}

/**
 * The session of a message sent to an endpoint stream (`name.sendStreamMessage`): the call,
 * and this connection's open streams of that endpoint (none, when it has none: a message
 * may well mean something without one).
 */
export class MessageSession<
  TCtx extends AppContext = AppContext,
  TEvent = unknown,
  TInput = unknown,
> extends Session<TCtx> {
  constructor(
    site: CallSite<TCtx>,
    connection: Connection<TCtx['user']>,
    streams: readonly StreamSession<TCtx, TEvent, TInput>[],
  ) {
    super(site, connection);
    this.streams = streams;
  }

  /** This connection's open streams of the endpoint, oldest first. */
  readonly streams: readonly StreamSession<TCtx, TEvent, TInput>[];
}

/** The cursor part of a tracked event id (`"42~3"` → `"42"`). */
export function cursorOf(eventId: string | null | undefined): string | undefined {
  if (eventId === null || eventId === undefined || eventId === '') return undefined;
  const i = eventId.indexOf(CURSOR_SEPARATOR);
  const cursor = i === -1 ? eventId : eventId.slice(0, i);
  return cursor === '' ? undefined : cursor;
}
