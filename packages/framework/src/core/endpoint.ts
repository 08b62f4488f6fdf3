import type { z } from 'zod';
import type { AppContext, MessageSession, Session, StreamSession } from './session.js';

/** Any zod schema. */
export type Schema = z.ZodType;

/** The handler argument for an input schema: nothing when the method takes no input. */
export type InputOf<TIn extends Schema | undefined> = TIn extends Schema ? z.output<TIn> : undefined;

type MaybePromise<T> = T | Promise<T>;

const METHOD = Symbol.for('streampod.method');

interface MethodBase<TIn extends Schema | undefined> {
  readonly input: TIn;
  readonly description: string | undefined;
  /** Callable without signing in. */
  readonly public: boolean;
}

/** A query or mutation of an endpoint. */
export interface CallMethod<
  TCtx extends AppContext,
  TKind extends 'query' | 'mutation',
  TIn extends Schema | undefined,
  TOut extends Schema,
> extends MethodBase<TIn> {
  readonly [METHOD]: 'call';
  readonly kind: TKind;
  readonly output: TOut;
  readonly handler: (session: Session<TCtx>, input: InputOf<TIn>) => MaybePromise<z.input<TOut>>;
}

/**
 * A subscription, in either of two styles, told apart by what the handler returns:
 * - an async iterable (an `async function*`): each value it yields is an event, and the
 *   stream ends when it does, or stops it when the client does (`session.signal`);
 * - nothing: the handler registers the session wherever events come from and returns;
 *   events go out through `session.sendStreamMessage` (or `session.send`, built once for
 *   many) until the stream closes, when `session.onClosed` callbacks run. Each subscriber
 *   is then one entry in a set, not a generator.
 */
export interface SubscriptionMethod<
  TCtx extends AppContext,
  TIn extends Schema | undefined,
  TOut extends Schema,
> extends MethodBase<TIn> {
  readonly [METHOD]: 'subscription';
  readonly kind: 'subscription';
  /** The schema of one event. */
  readonly output: TOut;
  /** Events carry resumable ids; the client resumes with `lastEventId` in the input. */
  readonly tracked: boolean;
  readonly handler: (
    session: StreamSession<TCtx, z.input<TOut>, InputOf<TIn>>,
    input: InputOf<TIn>,
  ) => AsyncIterable<z.input<TOut>> | MaybePromise<void>;
}

/**
 * The endpoint-level stream, Serverpod's model: one stream procedure (`name.stream`) whose
 * hooks see its whole life, and one message procedure (`name.sendStreamMessage`) by which
 * clients talk back.
 */
export interface EndpointStream<
  TCtx extends AppContext,
  TIn extends Schema,
  TMessage extends Schema | undefined,
  TEvent extends Schema,
> {
  readonly [METHOD]: 'endpoint-stream';
  readonly input: TIn;
  readonly message: TMessage;
  readonly event: TEvent;
  readonly tracked: boolean;
  readonly public: boolean;
  readonly description: string | undefined;
  readonly messageDescription: string | undefined;
  readonly hooks: EndpointStreamHooks<TCtx, TIn, TMessage, TEvent>;
}

/** What an endpoint-level stream does at each moment of its life. */
export interface EndpointStreamHooks<
  TCtx extends AppContext,
  TIn extends Schema,
  TMessage extends Schema | undefined,
  TEvent extends Schema,
> {
  /** Runs when a client opens the stream; throw to refuse it. Events may be sent from here on. */
  streamOpened?(session: StreamSession<TCtx, z.input<TEvent>, z.output<TIn>>): MaybePromise<void>;
  /**
   * Runs exactly once for every stream whose `streamOpened` succeeded, however it ends: the
   * client stops it, the socket dies or goes silent past the heartbeat timeout,
   * `session.close()`, or the server shuts down.
   */
  streamClosed?(session: StreamSession<TCtx, z.input<TEvent>, z.output<TIn>>): MaybePromise<void>;
  /**
   * Handles a validated message from a client. `session.streams` are that connection's open
   * streams of this endpoint (perhaps none: over HTTP, say).
   */
  handleStreamMessage?(
    session: MessageSession<TCtx, z.input<TEvent>, z.output<TIn>>,
    message: TMessage extends Schema ? z.output<TMessage> : never,
  ): MaybePromise<void>;
}

export type AnyCallMethod = CallMethod<AppContext, 'query' | 'mutation', Schema | undefined, Schema>;
export type AnySubscriptionMethod = SubscriptionMethod<AppContext, Schema | undefined, Schema>;
export type AnyEndpointStream = EndpointStream<AppContext, Schema, Schema | undefined, Schema>;
export type AnyMethod = AnyCallMethod | AnySubscriptionMethod | AnyEndpointStream;

/** What a method of an endpoint is, by the value of its field. */
export function methodKindOf(value: unknown): AnyMethod[typeof METHOD] | undefined {
  return typeof value === 'object' && value !== null && METHOD in value
    ? (value as { [METHOD]: AnyMethod[typeof METHOD] })[METHOD]
    : undefined;
}

/** What a call is declared with. */
export interface CallSpec<TIn extends Schema | undefined, TOut extends Schema> {
  /** Input schema; omit for no input. */
  input?: TIn;
  output: TOut;
  /** Shown on the generated client method and in the API reference. */
  description?: string;
  /**
   * Callable without signing in.
   * @default false
   */
  public?: boolean;
}

/** What a subscription is declared with. */
export interface SubscriptionSpec<TIn extends Schema | undefined, TOut extends Schema> extends CallSpec<TIn, TOut> {
  /**
   * Events carry resumable ids, and the client resumes after the last one it saw. The
   * input must then have a `lastEventId` field: tRPC sends it there.
   * @default false
   */
  tracked?: boolean;
}

/** What an endpoint-level stream is declared with: its schemas, once, and its hooks. */
export interface EndpointStreamSpec<
  TCtx extends AppContext,
  TIn extends Schema,
  TMessage extends Schema | undefined,
  TEvent extends Schema,
> extends EndpointStreamHooks<TCtx, TIn, TMessage, TEvent> {
  /** Input of `name.stream`. */
  input: TIn;
  /** What clients send through `name.sendStreamMessage` (no such procedure when absent). */
  message?: TMessage;
  /** What the server sends down the stream. */
  event: TEvent;
  /** @default false (see `SubscriptionSpec.tracked`) */
  tracked?: boolean;
  /** @default false */
  public?: boolean;
  /** Of `name.stream`, for the generated client and the API reference. */
  description?: string;
  /** Of `name.sendStreamMessage`. */
  messageDescription?: string;
}

/**
 * A Serverpod-style endpoint: its methods are fields built with `query`, `mutation`,
 * `subscription` and `endpointStream`; register an instance under a name and each method
 * becomes `name.method`. Get the class for your app from `initStreampod…create().Endpoint`.
 *
 * ```ts
 * class GreetingEndpoint extends sp.Endpoint {
 *   hello = this.query({ input: HelloInput, output: Greeting, public: true }, (session, { name }) => ({
 *     text: `Hello ${name}`,
 *   }));
 * }
 * ```
 */
export abstract class Endpoint<TCtx extends AppContext = AppContext> {
  protected query<TOut extends Schema, TIn extends Schema | undefined = undefined>(
    spec: CallSpec<TIn, TOut>,
    handler: (session: Session<TCtx>, input: InputOf<TIn>) => MaybePromise<z.input<TOut>>,
  ): CallMethod<TCtx, 'query', TIn, TOut> {
    return call('query', spec, handler);
  }

  protected mutation<TOut extends Schema, TIn extends Schema | undefined = undefined>(
    spec: CallSpec<TIn, TOut>,
    handler: (session: Session<TCtx>, input: InputOf<TIn>) => MaybePromise<z.input<TOut>>,
  ): CallMethod<TCtx, 'mutation', TIn, TOut> {
    return call('mutation', spec, handler);
  }

  /** A subscription: see `SubscriptionMethod` for its two styles. */
  protected subscription<TOut extends Schema, TIn extends Schema | undefined = undefined>(
    spec: SubscriptionSpec<TIn, TOut>,
    handler: (
      session: StreamSession<TCtx, z.input<TOut>, InputOf<TIn>>,
      input: InputOf<TIn>,
    ) => AsyncIterable<z.input<TOut>> | MaybePromise<void>,
  ): SubscriptionMethod<TCtx, TIn, TOut> {
    const tracked = spec.tracked ?? false;
    if (tracked) assertResumable(spec.input);
    return {
      [METHOD]: 'subscription',
      kind: 'subscription',
      input: spec.input as TIn,
      output: spec.output,
      description: spec.description,
      public: spec.public ?? false,
      tracked,
      handler,
    };
  }

  /**
   * The endpoint-level stream (declare it as the field `stream`): `name.stream` and, with a
   * `message` schema, `name.sendStreamMessage`.
   */
  protected endpointStream<TIn extends Schema, TEvent extends Schema, TMessage extends Schema | undefined = undefined>(
    spec: EndpointStreamSpec<TCtx, TIn, TMessage, TEvent>,
  ): EndpointStream<TCtx, TIn, TMessage, TEvent> {
    const tracked = spec.tracked ?? false;
    if (tracked) assertResumable(spec.input);
    return {
      [METHOD]: 'endpoint-stream',
      input: spec.input,
      message: spec.message as TMessage,
      event: spec.event,
      tracked,
      public: spec.public ?? false,
      description: spec.description,
      messageDescription: spec.messageDescription,
      hooks: spec,
    };
  }
}

function call<
  TCtx extends AppContext,
  TKind extends 'query' | 'mutation',
  TIn extends Schema | undefined,
  TOut extends Schema,
>(
  kind: TKind,
  spec: CallSpec<TIn, TOut>,
  handler: (session: Session<TCtx>, input: InputOf<TIn>) => MaybePromise<z.input<TOut>>,
): CallMethod<TCtx, TKind, TIn, TOut> {
  return {
    [METHOD]: 'call',
    kind,
    input: spec.input as TIn,
    output: spec.output,
    description: spec.description,
    public: spec.public ?? false,
    handler,
  };
}

/** A tracked stream that could never resume is a mistake to catch at definition, not in production. */
function assertResumable(input: Schema | undefined): void {
  if (input !== undefined && hasField(input, 'lastEventId')) return;
  throw new Error(
    'a tracked stream needs a `lastEventId` field in its input (tRPC sends the last event id there on ' +
      'resume), e.g. z.object({ lastEventId: z.string().nullish() }).optional()',
  );
}

function hasField(schema: Schema, field: string): boolean {
  const def = schema._zod.def as { type: string; innerType?: Schema; shape?: Record<string, unknown> };
  if (def.type === 'optional' || def.type === 'nullable' || def.type === 'default') {
    return def.innerType !== undefined && hasField(def.innerType, field);
  }
  return def.type === 'object' && def.shape !== undefined && field in def.shape;
}

/** Endpoints by name: the one place an app registers them. */
export type EndpointMap = Readonly<Record<string, object>>;
