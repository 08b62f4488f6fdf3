import type { z } from 'zod';
import { fail } from './errors.js';
import type { Session, StreamingSession } from './session.js';

/** Any zod schema. */
export type Schema = z.ZodType;

/** The handler argument for an input schema: nothing when the method takes no input. */
export type InputOf<TIn extends Schema | undefined> = TIn extends Schema ? z.output<TIn> : undefined;

type MaybePromise<T> = T | Promise<T>;

const METHOD = Symbol.for('streampod.method');

/** A query or mutation of an endpoint. */
export interface CallMethod<TKind extends 'query' | 'mutation', TIn extends Schema | undefined, TOut extends Schema> {
  readonly [METHOD]: 'call';
  readonly kind: TKind;
  readonly input: TIn;
  readonly output: TOut;
  readonly description: string | undefined;
  readonly handler: (session: Session, input: InputOf<TIn>) => MaybePromise<z.input<TOut>>;
}

/** A streaming method: an async iterable of events, a tRPC subscription on the wire. */
export interface StreamMethod<TIn extends Schema | undefined, TOut extends Schema> {
  readonly [METHOD]: 'stream';
  readonly kind: 'subscription';
  readonly input: TIn;
  readonly output: TOut;
  readonly description: string | undefined;
  readonly handler: (
    session: Session & { readonly signal: AbortSignal },
    input: InputOf<TIn>,
  ) => AsyncIterable<z.input<TOut>>;
}

/**
 * A push method, a subscription without a generator: the handler opens the stream (check
 * access, register the session wherever events come from, send a first event) and returns;
 * events go out through `session.sendStreamMessage` until the stream closes, when
 * `session.onClosed` callbacks run. Each subscriber costs one entry where it is registered.
 */
export interface PushMethod<TIn extends Schema | undefined, TOut extends Schema> {
  readonly [METHOD]: 'push';
  readonly kind: 'subscription';
  readonly input: TIn;
  readonly output: TOut;
  readonly description: string | undefined;
  readonly tracked: boolean;
  readonly handler: (session: StreamingSession<z.input<TOut>, InputOf<TIn>>, input: InputOf<TIn>) => MaybePromise<void>;
}

export type AnyMethod =
  | CallMethod<'query' | 'mutation', Schema | undefined, Schema>
  | StreamMethod<Schema | undefined, Schema>
  | PushMethod<Schema | undefined, Schema>;

/** How a method runs: a call, an async-iterable stream, or a push stream. */
export function styleOf(method: AnyMethod): 'call' | 'stream' | 'push' {
  return method[METHOD];
}

export function isMethod(value: unknown): value is AnyMethod {
  return typeof value === 'object' && value !== null && METHOD in value;
}

/** What a method is declared with. */
export interface MethodSpec<TIn extends Schema | undefined, TOut extends Schema> {
  /** Input schema (exported from `@streampod/protocol`); omit for no input. */
  input?: TIn;
  /** Output schema; for a stream, the schema of one event. */
  output: TOut;
  /** Shown on the generated client method. */
  description?: string;
}

/**
 * A Serverpod-style endpoint. Its methods are fields built with `query`, `mutation` and
 * `stream`; register an instance under a name and each method becomes `name.method`.
 *
 * ```ts
 * class GreetingEndpoint extends Endpoint {
 *   hello = this.query({ input: HelloInput, output: Greeting }, (session, { name }) => ({
 *     text: `Hello ${name}, you are user ${session.userId}`,
 *   }));
 * }
 * ```
 */
export abstract class Endpoint {
  /**
   * Whether every method needs a signed-in user (`UNAUTHORIZED` otherwise).
   * @default true
   */
  get requireLogin(): boolean {
    return true;
  }

  protected query<TOut extends Schema, TIn extends Schema | undefined = undefined>(
    spec: MethodSpec<TIn, TOut>,
    handler: (session: Session, input: InputOf<TIn>) => MaybePromise<z.input<TOut>>,
  ): CallMethod<'query', TIn, TOut> {
    return call('query', spec, handler);
  }

  protected mutation<TOut extends Schema, TIn extends Schema | undefined = undefined>(
    spec: MethodSpec<TIn, TOut>,
    handler: (session: Session, input: InputOf<TIn>) => MaybePromise<z.input<TOut>>,
  ): CallMethod<'mutation', TIn, TOut> {
    return call('mutation', spec, handler);
  }

  /** A push method (see `PushMethod`); `tracked` streams carry resumable event ids. */
  protected push<TOut extends Schema, TIn extends Schema | undefined = undefined>(
    spec: MethodSpec<TIn, TOut> & { tracked?: boolean },
    handler: (session: StreamingSession<z.input<TOut>, InputOf<TIn>>, input: InputOf<TIn>) => MaybePromise<void>,
  ): PushMethod<TIn, TOut> {
    return {
      [METHOD]: 'push',
      kind: 'subscription',
      input: spec.input as TIn,
      output: spec.output,
      description: spec.description,
      tracked: spec.tracked ?? false,
      handler,
    };
  }

  /** A streaming method: `handler` is usually an `async function*`; it stops when `session.signal` aborts. */
  protected stream<TOut extends Schema, TIn extends Schema | undefined = undefined>(
    spec: MethodSpec<TIn, TOut>,
    handler: (session: Session & { readonly signal: AbortSignal }, input: InputOf<TIn>) => AsyncIterable<z.input<TOut>>,
  ): StreamMethod<TIn, TOut> {
    return {
      [METHOD]: 'stream',
      kind: 'subscription',
      input: spec.input as TIn,
      output: spec.output,
      description: spec.description,
      handler,
    };
  }
}

function call<TKind extends 'query' | 'mutation', TIn extends Schema | undefined, TOut extends Schema>(
  kind: TKind,
  spec: MethodSpec<TIn, TOut>,
  handler: (session: Session, input: InputOf<TIn>) => MaybePromise<z.input<TOut>>,
): CallMethod<TKind, TIn, TOut> {
  return {
    [METHOD]: 'call',
    kind,
    input: spec.input as TIn,
    output: spec.output,
    description: spec.description,
    handler,
  };
}

/** The endpoint-level stream of a `StreamingEndpoint`. */
export interface EndpointStreamSpec<TIn extends Schema, TMessage extends Schema, TEvent extends Schema> {
  /** Input of `name.stream` (tRPC adds `lastEventId` to it on resume). */
  input: TIn;
  /** What the client sends through `name.sendStreamMessage`. */
  message: TMessage;
  /** What the server sends down the stream. */
  event: TEvent;
  /**
   * Every event carries a tracked id, so that a client resumes with `lastEventId`.
   * @default false
   */
  tracked?: boolean;
  description?: string;
}

/** The session type of a streaming endpoint's hooks. */
export type StreamSessionOf<TEvent extends Schema, TIn extends Schema> = StreamingSession<
  z.input<TEvent>,
  z.output<TIn>
>;

/**
 * An endpoint with one stream per connection, Serverpod's endpoint-level stream: a client
 * opens it with the `stream` subscription and talks back with `sendStreamMessage`; the
 * hooks below see the whole life of it.
 */
export abstract class StreamingEndpoint<
  TIn extends Schema,
  TMessage extends Schema,
  TEvent extends Schema,
> extends Endpoint {
  constructor(readonly streamSpec: EndpointStreamSpec<TIn, TMessage, TEvent>) {
    super();
  }

  /** Runs when a client opens the stream; throw to refuse it. Events may be sent from here on. */
  streamOpened(session: StreamSessionOf<TEvent, TIn>): MaybePromise<void> {
    void session;
  }

  /**
   * Runs exactly once for every stream whose `streamOpened` succeeded, however it ends:
   * the client stops it, the socket dies or goes silent past the heartbeat timeout,
   * `session.close()`, or the server shuts down.
   */
  streamClosed(session: StreamSessionOf<TEvent, TIn>): MaybePromise<void> {
    void session;
  }

  /** Handles a validated message from the client on this connection's open stream. */
  handleStreamMessage(session: StreamSessionOf<TEvent, TIn>, message: z.output<TMessage>): MaybePromise<void> {
    void session;
    void message;
    fail('BAD_REQUEST', 'this stream takes no messages');
  }

  /**
   * Handles a validated message sent while this connection has no open stream (a call over
   * HTTP, say). Refused with `PRECONDITION_FAILED` unless the endpoint accepts such messages.
   */
  handleStreamlessMessage(session: Session, message: z.output<TMessage>): MaybePromise<void> {
    void message;
    fail(
      'PRECONDITION_FAILED',
      `open ${session.path.slice(0, session.path.lastIndexOf('.'))}.stream on this connection first`,
    );
  }
}

export type AnyStreamingEndpoint = StreamingEndpoint<Schema, Schema, Schema>;

export function isStreamingEndpoint(endpoint: Endpoint): endpoint is AnyStreamingEndpoint {
  return endpoint instanceof StreamingEndpoint;
}

/** Endpoints by name: the one place an app registers them. */
export type EndpointMap = Readonly<Record<string, Endpoint>>;
