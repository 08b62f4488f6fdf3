import { initTRPC, TRPCError } from '@trpc/server';
import type { AnyTRPCRouter, TRPCProcedureType } from '@trpc/server';
import { transformer } from '@streampod/protocol';
import type { Connection } from './connection.js';
import {
  styleOf,
  type AnyMethod,
  type AnyStreamingEndpoint,
  type PushMethod,
  type Schema,
  type StreamMethod,
} from './endpoint.js';

type MaybePromise<T> = T | Promise<T>;
import { fail, formatIssues, validationIssues } from './errors.js';
import type { ProcedureDescriptor } from './procedures.js';
import { PushStream } from './server-stream.js';
import type { SessionRuntime, StreamSink } from './session.js';
import { cursorOf, Session, StreamingSession } from './session.js';

/** The tRPC context of every call: the connection it came over. */
export interface RequestContext {
  readonly connection: Connection;
}

/** What the router reports to the host around each call. */
export interface CallObserver {
  /** Before a call runs, once it is authorized (activity, for presence). */
  onCall?(connection: Connection, path: string, type: TRPCProcedureType): void;
  /** After a call finished (`error` set when it failed). */
  onResult?(call: { path: string; type: TRPCProcedureType; error: TRPCError | undefined; durationMs: number }): void;
}

const t = initTRPC.context<RequestContext>().create({
  transformer: {
    serialize: (value: unknown): unknown => transformer.serialize(value),
    // A request that leaves out `input` altogether means "no input", not a parse error.
    deserialize: (value: unknown): unknown =>
      value === undefined ? undefined : transformer.deserialize(value as Parameters<typeof transformer.deserialize>[0]),
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

/** The router type our adapters serve: procedures are built at run time from endpoints. */
export type StreampodRouter = AnyTRPCRouter;

/** Compiles endpoint procedures into one tRPC v11 router. */
export function compileRouter(
  procedures: readonly ProcedureDescriptor[],
  runtime: SessionRuntime,
  observer: CallObserver = {},
): StreampodRouter {
  const record: Record<string, ReturnType<typeof buildProcedure>> = {};
  for (const descriptor of procedures) record[descriptor.path] = buildProcedure(descriptor, runtime, observer);
  return t.router(record);
}

function buildProcedure(d: ProcedureDescriptor, runtime: SessionRuntime, observer: CallObserver) {
  let procedure = t.procedure.use(async ({ path, type, next }) => {
    const started = performance.now();
    const result = await next();
    observer.onResult?.({
      path,
      type,
      error: result.ok ? undefined : result.error,
      durationMs: performance.now() - started,
    });
    return result;
  });
  procedure = procedure.use(({ ctx, path, type, next }) => {
    if (d.requireLogin && ctx.connection.user === null) {
      fail('UNAUTHORIZED', ctx.connection.owner === null ? 'a valid token is required' : 'the token has expired');
    }
    observer.onCall?.(ctx.connection, path, type);
    return next();
  });
  // Procedures are assembled at run time, so their static types are erased to the base
  // builder's; clients get their types from the generated client instead.
  const withInput = (d.input === undefined ? procedure : procedure.input(d.input)) as unknown as BaseBuilder;
  const { impl } = d;
  switch (impl.type) {
    case 'method':
      return buildMethod(withInput, { d, method: impl.method, runtime });
    case 'endpoint-stream':
      return withInput.subscription(({ ctx, input, signal }) =>
        openEndpointStream(impl.endpoint, { d, runtime, connection: ctx.connection, input, signal }),
      );
    case 'endpoint-message':
      return withInput
        .output(d.output)
        .mutation(({ ctx, input }) =>
          handleEndpointMessage({ endpoint: impl.endpoint, d, runtime, connection: ctx.connection }, input),
        );
  }
}

type BaseBuilder = typeof t.procedure;

function buildMethod(
  builder: BaseBuilder,
  { d, method, runtime }: { d: ProcedureDescriptor; method: AnyMethod; runtime: SessionRuntime },
) {
  if (method.kind !== 'subscription') {
    const handler = (opts: { ctx: RequestContext; input: unknown }) =>
      method.handler(new Session(runtime, opts.ctx.connection, d.path), opts.input);
    const withOutput = builder.output(d.output);
    return method.kind === 'query' ? withOutput.query(handler) : withOutput.mutation(handler);
  }
  if (styleOf(method) === 'push') {
    const push = method as PushMethod<Schema | undefined, Schema>;
    return builder.subscription(({ ctx, input, signal }) =>
      openSessionStream({ d, runtime, connection: ctx.connection, input, signal }, (session) =>
        push.handler(session, input),
      ),
    );
  }
  const stream = method as StreamMethod<Schema | undefined, Schema>;
  return builder.subscription(({ ctx, input, signal }) => {
    const session = Object.assign(new Session(runtime, ctx.connection, d.path), {
      signal: signal ?? new AbortController().signal,
    });
    return stream.handler(session, input);
  });
}

interface StreamContext {
  d: ProcedureDescriptor;
  runtime: SessionRuntime;
  connection: Connection;
  input: unknown;
  /** The procedure's abort signal: the slow (iterating) path closes the stream on it. */
  signal: AbortSignal | undefined;
}

/**
 * A stream backed by a `StreamingSession`: `open` runs as its opening step; its close runs
 * the session's close callbacks once, whether the client stops, the socket dies, the
 * server calls `session.close()` or shuts down.
 */
function openSessionStream(
  { d, runtime, connection, input, signal }: StreamContext,
  open: (session: StreamingSession<unknown, unknown>) => MaybePromise<void>,
) {
  return new PushStream(async (sink: StreamSink) => {
    const session = new StreamingSession<unknown, unknown>({
      runtime,
      connection,
      path: d.path,
      input,
      sink,
      tracked: d.tracked,
      resumeFrom: cursorOf(lastEventIdOf(input)),
    });
    try {
      await session.open(() => open(session));
    } catch (error) {
      await session.closeOnce();
      throw error;
    }
    return { close: () => session.closeOnce(() => sink.end()) };
  }, signal);
}

function openEndpointStream(endpoint: AnyStreamingEndpoint, context: StreamContext) {
  const { d, connection } = context;
  const name = d.endpointName;
  const refuseSecond = () => {
    if (connection.endpointStreams.has(name)) {
      fail('CONFLICT', `this connection already has an open ${d.path}; stop it before opening another`);
    }
  };
  // Checked here so the client gets the error instead of `started`, and again on open
  // in case two subscriptions raced past this point.
  refuseSecond();
  return openSessionStream(context, async (session) => {
    refuseSecond();
    connection.endpointStreams.set(name, session);
    const unregister = () => {
      if (connection.endpointStreams.get(name) === session) connection.endpointStreams.delete(name);
    };
    session.onClosed(unregister);
    session.onClosed(() => endpoint.streamClosed(session));
    try {
      await endpoint.streamOpened(session);
    } catch (error) {
      unregister();
      throw error;
    }
  });
}

async function handleEndpointMessage(
  {
    endpoint,
    d,
    runtime,
    connection,
  }: { endpoint: AnyStreamingEndpoint; d: ProcedureDescriptor; runtime: SessionRuntime; connection: Connection },
  message: unknown,
): Promise<void> {
  let session = connection.endpointStreams.get(d.endpointName);
  if (session === undefined) {
    // The client may have subscribed in the same breath: let that finish first.
    await connection.setupsSettled();
    session = connection.endpointStreams.get(d.endpointName);
  }
  // Messages reach a stream only once `streamOpened` has finished; without one, the endpoint decides.
  if (session === undefined || !session.isOpen || !(await session.opened)) {
    await endpoint.handleStreamlessMessage(new Session(runtime, connection, d.path), message);
    return;
  }
  await endpoint.handleStreamMessage(session, message);
}

function lastEventIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || !('lastEventId' in input)) return undefined;
  const { lastEventId } = input;
  return typeof lastEventId === 'string' ? lastEventId : undefined;
}

export { TRPCError };
