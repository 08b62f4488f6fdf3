import type { EndpointMap } from '../core/endpoint.js';
import { TokenService } from '../auth/tokens.js';
import { openDatabase, type Database } from '../db/index.js';
import { createLogger } from '../observability/logger.js';
import { StreampodServer, type ServerHooks, type StreampodServerOptions } from '../server.js';
import { appEndpoints } from '../app/endpoints.js';

export interface TestServer extends AsyncDisposable {
  readonly server: StreampodServer;
  readonly database: Database;
  readonly tokens: TokenService;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/trpc` */
  readonly wsUrl: string;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<
  Pick<StreampodServerOptions, 'heartbeatIntervalMs' | 'presenceTimeoutMs' | 'maxBufferedBytes' | 'shutdownGraceMs'>
> {
  /** @default the chat app's endpoints */
  endpoints?: EndpointMap;
  /** @default a fresh in-memory PGlite database, closed with the server */
  database?: Database;
  hooks?: ServerHooks;
}

const SECRET = new TextEncoder().encode('test-secret-test-secret-test-secret!');

/** A real server on a free loopback port, for tests: `await using server = await startTestServer()`. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownsDatabase = opts.database === undefined;
  const database = opts.database ?? (await openDatabase({ dataDir: 'memory' }));
  const tokens = new TokenService({ secret: SECRET });
  const server = new StreampodServer({
    endpoints: opts.endpoints ?? appEndpoints,
    database,
    services: { tokens },
    logger: createLogger(
      process.env['TEST_LOG_LEVEL'] === undefined ? 'silent' : (process.env['TEST_LOG_LEVEL'] as 'info'),
    ),
    ...(opts.hooks === undefined ? {} : { hooks: opts.hooks }),
    ...(opts.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: opts.heartbeatIntervalMs }),
    ...(opts.presenceTimeoutMs === undefined ? {} : { presenceTimeoutMs: opts.presenceTimeoutMs }),
    ...(opts.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: opts.maxBufferedBytes }),
    shutdownGraceMs: opts.shutdownGraceMs ?? 500,
  });
  const { url, port } = await server.listen({ port: 0, host: '127.0.0.1' });
  const close = async () => {
    await server.close();
    if (ownsDatabase) await database.close();
  };
  return { server, database, tokens, url, wsUrl: `ws://127.0.0.1:${port}/trpc`, close, [Symbol.asyncDispose]: close };
}
