import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { TokenService } from '../auth/tokens.js';
import type { Services } from '../core/services.js';
import type { DB } from '../db/index.js';
import type { FanoutBus } from '../fanout/fanout-bus.js';
import { MemoryFanoutBus } from '../fanout/memory-fanout-bus.js';
import { MemoryPresenceStore } from '../presence/memory-presence-store.js';
import type { Membership } from '../presence/membership.js';
import { ChatService } from '../chat/chat-service.js';
import { PresenceManager } from '../presence/presence-manager.js';
import type { PresenceStore } from '../presence/presence-store.js';
import type { ServerHooks } from '../server.js';

export interface AppServicesOptions {
  db: Kysely<DB>;
  log: Logger;
  tokens: TokenService;
  /** @default in memory (one node) */
  bus?: FanoutBus;
  /** @default in memory (one node) */
  store?: PresenceStore;
  /** @default the chat rooms */
  membership?: Membership;
  /** @default 300_000 */
  idleAfterMs?: number;
  /** @default 50 */
  presenceBatchMs?: number;
  /** @default 5_000 */
  typingTimeoutMs?: number;
  /** Most messages a resuming chat stream replays. @default 1_000 */
  maxCatchUp?: number;
}

/** The chat server's services and the connection hooks that feed presence, built once per server. */
export function createAppServices(opts: AppServicesOptions): {
  services: Services;
  hooks: ServerHooks;
  close(): Promise<void>;
} {
  const bus = opts.bus ?? new MemoryFanoutBus();
  const store = opts.store ?? new MemoryPresenceStore();
  const chat = new ChatService({
    db: opts.db,
    bus,
    log: opts.log,
    ...(opts.typingTimeoutMs === undefined ? {} : { typingTimeoutMs: opts.typingTimeoutMs }),
    ...(opts.maxCatchUp === undefined ? {} : { maxCatchUp: opts.maxCatchUp }),
  });
  const presence = new PresenceManager({
    store,
    bus,
    db: opts.db,
    log: opts.log,
    onChange: (p) =>
      void chat
        .presenceChanged(p)
        .catch((error: unknown) => opts.log.error({ err: error }, 'presence broadcast failed')),
    ...(opts.idleAfterMs === undefined ? {} : { idleAfterMs: opts.idleAfterMs }),
    ...(opts.presenceBatchMs === undefined ? {} : { batchMs: opts.presenceBatchMs }),
  });
  return {
    services: { tokens: opts.tokens, presence, chat, membership: opts.membership ?? chat.repo },
    hooks: {
      onConnectionOpen: (connection) => presence.connectionOpened(connection),
      onConnectionClose: (connection) => presence.connectionClosed(connection),
      onCall: (connection) => presence.activity(connection),
    },
    async close() {
      chat.close();
      presence.close();
      await store.close();
      await bus.close();
    },
  };
}
