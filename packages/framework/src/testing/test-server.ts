import type { StreampodServer, StreampodServerOptions } from '../host/server.js';
import { createLogger } from '../host/logger.js';
import type { AppContext } from '../core/session.js';
import type { Streampod } from '../init.js';

/** A server on a free loopback port, closed when disposed. */
export interface TestServer<TCtx extends AppContext = AppContext> extends AsyncDisposable {
  readonly server: StreampodServer<TCtx>;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/trpc` */
  readonly wsUrl: string;
  close(): Promise<void>;
}

/**
 * A real server for `sp`'s endpoints on a free loopback port, logging nothing unless
 * `TEST_LOG_LEVEL` says so: `await using test = await startTestServer(sp, { endpoints, services })`.
 */
export async function startTestServer<TCtx extends AppContext>(
  sp: Streampod<TCtx>,
  options: StreampodServerOptions<TCtx>,
): Promise<TestServer<TCtx>> {
  const level = process.env['TEST_LOG_LEVEL'];
  const server = sp.server({
    logger: createLogger(level === undefined ? 'silent' : (level as 'info')),
    shutdownGraceMs: 500,
    shutdownHandoffMs: 0,
    ...options,
  });
  const { url, port } = await server.listen({ port: 0, host: '127.0.0.1' });
  const close = () => server.close();
  return { server, url, wsUrl: `ws://127.0.0.1:${port}/trpc`, close, [Symbol.asyncDispose]: close };
}
