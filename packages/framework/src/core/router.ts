import { initTRPC, isTrackedEnvelope, TRPCError } from '@trpc/server';
import type { AnyTRPCRouter, TRPCProcedureType } from '@trpc/server';
import type { Connection } from './connection.js';
import type { AnyEndpointStream, AnySubscriptionMethod } from './endpoint.js';
import { fail, formatIssues, validationIssues } from './errors.js';
import { OutgoingEvent } from './outgoing-event.js';
import type { ProcedureDescriptor } from './procedures.js';
import { PushStream } from './server-stream.js';
import { addTo, removeFrom, valuesOf } from './small-sets.js';
import {
  cursorOf,
  MessageSession,
  Session,
  StreamSession,
  type CallSite,
  type SessionRuntime,
  type StreamSink,
} from './session.js';

type MaybePromise<T> = T | Promise<T>;

/** tRPC's data transformer shape: how inputs and outputs cross the wire. */
export interface Transformer {
  serialize(value: unknown): unknown;
  deserialize(value: unknown): unknown;
}

/** The tRPC context of every call: the connection it came over. */
export interface RequestContext {
  readonly connection: Connection;
}

/** A call about to run, for `beforeCall` middleware. */
export interface CallInfo {
  readonly connection: Connection;
  /** `endpoint.method` */
  readonly path: string;
  readonly type: TRPCProcedureType;
  /** Callable without signing in. */
  readonly public: boolean;
  /** The input as sent, before validation. */
  rawInput(): Promise<unknown>;
}

/**
 * Runs before every call (queries, mutations and subscriptions alike), once the caller is
 * known to be allowed: throw (`fail(code, message)`) to refuse the call with any tRPC code,
 * e.g. `TOO_MANY_REQUESTS` from a rate limit.
 */
export type BeforeCall = (call: CallInfo) => MaybePromise<void>;

/** What the router reports to the host around each call. */
export interface CallObserver {
  /** Before a call runs, once it is authorized (activity, for presence). */
  onCall?(connection: Connection, path: string, type: TRPCProcedureType): void;
  /** After a call finished (`error` set when it failed). */
  onResult?(call: {
    path: string;
    type: TRPCProcedureType;
    error: TRPCError | undefined;
    durationMs: number;
    connection: Connection;
  }): void;
}

/**
 * Turns an error a method threw into one its caller may see (a database refusing bytes into
 * BAD_REQUEST, say: `rpcError` makes one); `undefined` leaves it an internal error.
 */
export type ErrorTranslator = (error: unknown) => Error | undefined;

/** The router type our adapters serve: procedures are built at run time from endpoints. */
export type StreampodRouter = AnyTRPCRouter;

/** tRPC's builder for one app: its transformer and error formatting. */
export function createTrpc(transformer: Transformer) {
  return initTRPC.context<RequestContext>().create({
    transformer: {
      serialize: (value: unknown): unknown => transformer.serialize(value),
      // A request that leaves out `input` altogether means "no input", not a parse error.
      deserialize: (value: unknown): unknown => (value === undefined ? undefined : transformer.deserialize(value)),
    },
    isServer: true,
    // Stack traces stay on the server unless explicitly developing.
    isDev: process.env['NODE_ENV'] === 'development',
    // Subscriptions travel over the WebSocket only, where heartbeats and shutdown reach them.
    sse: { enabled: false },
    errorFormatter({ shape, error }) {
      // An internal error's message may name tables or constraints: the client gets none of it.
      if (error.code === 'INTERNAL_SERVER_ERROR') return { ...shape, message: 'Internal server error' };
      const issues = error.code === 'BAD_REQUEST' ? validationIssues(error.cause) : null;
      if (issues === null) return shape;
      return { ...shape, message: formatIssues(issues), data: { ...shape.data, issues } };
    },
  });
}

type Trpc = ReturnType<typeof createTrpc>;

/** Compiles endpoint procedures into one tRPC v11 router. */
export function compileRouter(opts: {
  trpc: Trpc;
  procedures: readonly ProcedureDescriptor[];
  runtime: SessionRuntime;
  observer?: CallObserver;
  beforeCall?: readonly BeforeCall[];
  translateError?: ErrorTranslator;
}): StreampodRouter {
  const record: Record<string, ReturnType<typeof buildProcedure>> = {};
  for (const descriptor of opts.procedures) record[descriptor.path] = buildProcedure(descriptor, opts);
  return opts.trpc.router(record);
}

function buildProcedure(
  d: ProcedureDescriptor,
  { trpc, runtime, observer = {}, beforeCall = [], translateError }: Parameters<typeof compileRouter>[0],
) {
  let procedure = trpc.procedure.use(async ({ ctx, path, type, next }) => {
    const started = performance.now();
    const result = await next();
    observer.onResult?.({
      connection: ctx.connection,
      path,
      type,
      error: result.ok ? undefined : result.error,
      durationMs: performance.now() - started,
    });
    return result;
  });
  procedure = procedure.use(async ({ ctx, path, type, next, getRawInput }) => {
    if (!d.public && ctx.connection.user === null) {
      fail('UNAUTHORIZED', ctx.connection.owner === null ? 'a valid token is required' : 'the token has expired');
    }
    for (const middleware of beforeCall) {
      await middleware({ connection: ctx.connection, path, type, public: d.public, rawInput: getRawInput });
    }
    observer.onCall?.(ctx.connection, path, type);
    return next();
  });
  // Procedures are assembled at run time, so their static types are erased to the base
  // builder's; clients get their types from the generated client instead.
  const builder = (d.input === undefined ? procedure : procedure.input(d.input)) as unknown as Trpc['procedure'];
  const { impl } = d;
  const site: CallSite = { runtime, path: d.path };
  switch (impl.type) {
    case 'call': {
      const method = impl.method;
      const run = (o: { ctx: RequestContext; input: unknown }) =>
        method.handler(new Session(site, o.ctx.connection), o.input);
      const handler =
        translateError === undefined
          ? run
          : async (o: { ctx: RequestContext; input: unknown }) => {
              try {
                return await run(o);
              } catch (error) {
                throw (error instanceof TRPCError ? undefined : translateError(error)) ?? error;
              }
            };
      const withOutput = builder.output(d.output);
      return method.kind === 'query' ? withOutput.query(handler) : withOutput.mutation(handler);
    }
    case 'subscription':
      return builder.subscription(({ ctx, input, signal }) =>
        openStream({ d, site, connection: ctx.connection, input, signal }, (session) =>
          runSubscription(impl.method, session, input),
        ),
      );
    case 'endpoint-stream': {
      const closed = endpointStreamCloser(impl.stream);
      return builder.subscription(({ ctx, input, signal }) =>
        openEndpointStream(impl.stream, closed, { d, site, connection: ctx.connection, input, signal }),
      );
    }
    case 'endpoint-message':
      return builder
        .output(d.output)
        .mutation(({ ctx, input }) =>
          handleEndpointMessage({ stream: impl.stream, d, site, connection: ctx.connection }, input),
        );
  }
}

/**
 * Runs a subscription's handler as the stream's opening step. A handler that returns an
 * async iterable has it pumped into the stream (and stopped when the stream closes); one
 * that returns nothing has registered the session itself.
 */
async function runSubscription(method: AnySubscriptionMethod, session: StreamSession, input: unknown): Promise<void> {
  const result = await method.handler(session, input);
  if (result === undefined || result === null || !isAsyncIterable(result)) return;
  const iterator = result[Symbol.asyncIterator]();
  session.onClosed(async () => {
    await iterator.return?.();
  });
  void pump(iterator, session);
}

async function pump(iterator: AsyncIterator<unknown>, session: StreamSession): Promise<void> {
  const stopped = new Promise<'stop'>((resolve) => {
    if (session.signal.aborted) resolve('stop');
    else session.signal.addEventListener('abort', () => resolve('stop'), { once: true });
  });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), stopped]);
      if (next === 'stop') return;
      if (next.done === true) break;
      const value: unknown = next.value;
      if (isTrackedEnvelope(value)) session.send(new OutgoingEvent(value[1]), String(value[0]));
      else session.send(new OutgoingEvent(value));
    }
    await session.close();
  } catch (error) {
    session.fail(error);
  }
}

interface StreamContext {
  d: ProcedureDescriptor;
  site: CallSite;
  connection: Connection;
  input: unknown;
  /** The procedure's abort signal: the slow (iterating) path closes the stream on it. */
  signal: AbortSignal | undefined;
}

/**
 * A stream backed by a `StreamSession`: `open` runs as its opening step; its close runs the
 * session's close callbacks once, whether the client stops, the socket dies, the server
 * calls `session.close()` or shuts down.
 */
function openStream(
  { d, site, connection, input, signal }: StreamContext,
  open: (session: StreamSession) => MaybePromise<void>,
) {
  return new PushStream(async (sink: StreamSink, key: unknown) => {
    const session = StreamSession.create({
      site,
      connection,
      input,
      sink,
      key,
      tracked: d.tracked,
      resumeFrom: cursorOf(lastEventIdOf(input)),
    });
    try {
      await session.open(() => open(session));
    } catch (error) {
      await session.closeOnce();
      throw error;
    }
    // The session is its own handle: nothing more is kept per subscriber.
    return session;
  }, signal);
}

/** A connection's open endpoint streams, for the messages sent to them (a connection holds few, most one). */
const endpointStreams = new WeakMap<Connection, StreamSession | Set<StreamSession>>();

function forgetEndpointStream(session: StreamSession): void {
  removeFrom(endpointStreams, session.connection, session);
}

/**
 * What closing one of the endpoint's streams does: made once per endpoint, so a stream holds
 * no closure of its own for it.
 */
const endpointStreamCloser = (stream: AnyEndpointStream) => async (session: StreamSession) => {
  forgetEndpointStream(session);
  await stream.hooks.streamClosed?.(session);
};

function openEndpointStream(
  stream: AnyEndpointStream,
  closed: (session: StreamSession) => Promise<void>,
  context: StreamContext,
) {
  const { connection } = context;
  return openStream(context, async (session) => {
    addTo(endpointStreams, connection, session);
    session.onClosed(closed, session);
    try {
      await stream.hooks.streamOpened?.(session);
    } catch (error) {
      forgetEndpointStream(session);
      throw error;
    }
  });
}

async function handleEndpointMessage(
  {
    stream,
    d,
    site,
    connection,
  }: { stream: AnyEndpointStream; d: ProcedureDescriptor; site: CallSite; connection: Connection },
  message: unknown,
): Promise<void> {
  // The client may have subscribed in the same breath: let that finish first.
  await connection.setupsSettled();
  const streamPath = `${d.endpointName}.stream`;
  const open: StreamSession[] = [];
  for (const session of valuesOf(endpointStreams.get(connection))) {
    // Messages reach a stream only once `streamOpened` has finished.
    if (session.path === streamPath && session.isOpen && (await session.opened)) open.push(session);
  }
  const hooks = stream.hooks;
  if (hooks.handleStreamMessage === undefined) fail('BAD_REQUEST', `${d.endpointName}.stream takes no messages`);
  await hooks.handleStreamMessage(new MessageSession(site, connection, open), message);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function lastEventIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || !('lastEventId' in input)) return undefined;
  const { lastEventId } = input;
  return typeof lastEventId === 'string' ? lastEventId : undefined;
}

export { TRPCError };
