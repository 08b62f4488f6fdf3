import { SuperJSON } from 'superjson';
import { StreampodServer, type StreampodServerOptions } from './host/server.js';
import { Endpoint } from './core/endpoint.js';
import type { EndpointMap } from './core/endpoint.js';
import { describeEndpoints, type ProcedureDescriptor } from './core/procedures.js';
import { createTrpc, type Transformer } from './core/router.js';
import type { AppContext } from './core/session.js';

/** Wire limits of an app. */
export interface StreampodLimits {
  /**
   * Largest WebSocket frame or HTTP body accepted, in bytes.
   * @default 1 MiB
   */
  maxFrameBytes: number;
  /**
   * Largest WebSocket frame read at all: a frame between `maxFrameBytes` and this is
   * answered PAYLOAD_TOO_LARGE request by request while the socket stays open; a bigger
   * one closes the socket (1009) before it is buffered whole.
   * @default 4 × `maxFrameBytes`
   */
  hardFrameBytes: number;
}

export interface StreampodOptions {
  /**
   * How values cross the wire; the client must use the same one.
   * @default a superjson instance (Dates travel as Dates)
   */
  transformer?: Transformer;
  limits?: Partial<StreampodLimits>;
}

/** One app's framework: its endpoint base class, its transformer and limits, and servers for its endpoints. */
export interface Streampod<TCtx extends AppContext> {
  /** The base class of the app's endpoints: `class UsersEndpoint extends sp.Endpoint { … }`. */
  readonly Endpoint: abstract new () => Endpoint<TCtx>;
  readonly transformer: Transformer;
  readonly limits: StreampodLimits;
  /** A server for `endpoints` (call `listen` to start it). */
  server(options: StreampodServerOptions<TCtx>): StreampodServer<TCtx>;
  /** Every procedure of `endpoints`: what code generation and contract checks read. */
  describe(endpoints: EndpointMap): ProcedureDescriptor[];
}

/**
 * The framework for one app, typed by what its endpoints see, in the spirit of tRPC's
 * `initTRPC.context<Ctx>().create()`:
 *
 * ```ts
 * const sp = initStreampod.context<{ services: { counter: Counter }; user: { id: string } }>().create();
 * class CounterEndpoint extends sp.Endpoint { … }
 * const server = sp.server({ endpoints: { counter: new CounterEndpoint() }, services: { counter } });
 * ```
 */
export const initStreampod = {
  context<TCtx extends AppContext>() {
    return {
      create(options: StreampodOptions = {}): Streampod<TCtx> {
        const transformer = options.transformer ?? new SuperJSON();
        const maxFrameBytes = options.limits?.maxFrameBytes ?? 1024 * 1024;
        const limits: StreampodLimits = { maxFrameBytes, hardFrameBytes: 4 * maxFrameBytes, ...options.limits };
        const trpc = createTrpc(transformer);
        return {
          Endpoint: Endpoint,
          transformer,
          limits,
          server: (serverOptions) =>
            new StreampodServer<TCtx>({
              ...serverOptions,
              trpc,
              maxFrameBytes: limits.maxFrameBytes,
              hardFrameBytes: limits.hardFrameBytes,
            }),
          describe: describeEndpoints,
        };
      },
    };
  },
};
