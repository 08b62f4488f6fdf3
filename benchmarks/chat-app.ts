/**
 * The chat server in this process, for benchmarks: an in-memory embedded database with
 * `users` users made directly (no password hashing), and the server over them, not listening.
 */
import { createLogger } from '@streampod/framework';
import { appEndpoints, createAppServices, openDatabase, sp, TokenService } from '@streampod/server';

export async function benchChatServer(opts: { users: number; heartbeatIntervalMs?: number }) {
  const database = await openDatabase({ dataDir: 'memory' });
  const log = createLogger('silent');
  const tokens = new TokenService({ secret: new TextEncoder().encode('bench-secret-bench-secret-bench-secret') });
  // The embedded database runs one statement at a time: one writer, as the chat server runs it.
  const app = await createAppServices({ nodeId: 'bench', db: database.db, log, tokens, concurrentWrites: 1 });
  const users = await database.db
    .insertInto('users')
    .values(
      Array.from({ length: opts.users }, (_, i) => ({
        username: `u${i}`,
        usernameKey: `u${i}`,
        displayName: `User ${i}`,
        passwordHash: 'x',
      })),
    )
    .returning(['id', 'username'])
    .execute();
  const server = sp.server({
    endpoints: appEndpoints,
    services: app.services,
    authenticate: (token) => tokens.verify(token),
    hooks: app.hooks,
    logger: log,
    health: app.health,
    ...(opts.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: opts.heartbeatIntervalMs }),
  });
  return {
    server,
    services: app.services,
    tokens,
    users,
    close: async () => {
      await server.close();
      await app.close();
      await database.close();
    },
  };
}
