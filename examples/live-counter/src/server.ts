import { createLogger, type Logger } from '@streampod/framework';
import { Counters, Rooms, sp, type Person } from './counter-app.js';
import { endpoints } from './endpoints.js';

/**
 * Signs in `demo:<name>` as that name. A real app verifies a signed token here (see the
 * chat server's `TokenService`); this one trusts whoever says who they are.
 */
export function authenticate(token: string) {
  const name = /^demo:([\w-]{1,20})$/.exec(token)?.[1];
  const user: Person | undefined = name === undefined ? undefined : { id: name, name };
  return Promise.resolve(user === undefined ? null : { user, expiresAt: Date.now() + 24 * 3_600_000 });
}

/** The live counter server, listening on `port` (0: any free port). */
export async function startCounterServer(opts: { port: number; host?: string; logger?: Logger }) {
  const server = sp.server({
    endpoints,
    services: { counters: new Counters(), rooms: new Rooms() },
    authenticate,
    logger: opts.logger ?? createLogger({ service: 'live-counter', pretty: 'auto' }),
  });
  const address = await server.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' });
  return { server, ...address };
}
