import { MemoryFanoutBus, type FanoutBus, type Logger, type ServerHooks } from '@streampod/framework';
import type { Kysely } from 'kysely';
import { AuthService } from '../auth/auth-service.js';
import type { TokenService } from '../auth/tokens.js';
import { ChatService } from '../chat/chat-service.js';
import { MemoryTypingStore } from '../chat/memory-typing-store.js';
import { RedisTypingStore } from '../chat/redis-typing-store.js';
import type { TypingStore } from '../chat/typing-store.js';
import type { DB } from '../db/index.js';
import type { ChatContext, Services } from '../endpoints/streampod.js';
import { RedisFanoutBus } from '../fanout/redis-fanout-bus.js';
import { DbLastSeenStore } from '../presence/last-seen.js';
import { MemoryPresenceStore } from '../presence/memory-presence-store.js';
import type { Membership } from '../presence/membership.js';
import { PresenceManager } from '../presence/presence-manager.js';
import type { PresenceStore } from '../presence/presence-store.js';
import { RoomPresenceService } from '../presence/room-presence.js';
import { AppMetrics } from './app-metrics.js';
import { RedisPresenceStore } from '../presence/redis-presence-store.js';
import type { RedisLink } from '../redis/redis-link.js';

export interface AppServicesOptions {
  db: Kysely<DB>;
  log: Logger;
  tokens: TokenService;
  /** This server's id among the nodes sharing the bus and stores. */
  nodeId: string;
  /** Shares presence, typing and broadcasts with every node on this Redis. @default none: one node */
  redis?: RedisLink;
  /** Key and channel prefix on Redis. @default 'sp:' */
  redisPrefix?: string;
  /** @default Redis when `redis` is given, else in memory */
  bus?: FanoutBus;
  /** @default Redis when `redis` is given, else in memory */
  store?: PresenceStore;
  /** @default Redis when `redis` is given, else in memory */
  typingStore?: TypingStore;
  /** @default the chat rooms */
  membership?: Membership;
  /** @default 15_000 */
  nodeLeaseMs?: number;
  /** @default 300_000 */
  idleAfterMs?: number;
  /** @default 50 */
  presenceBatchMs?: number;
  /** Rooms with more members are watched by their counts only (`presence.subscribeToRoom`). @default 1_000 */
  roomPresenceListLimit?: number;
  /** @default 5_000 */
  typingTimeoutMs?: number;
  /** Most messages a resuming chat stream replays. @default 1_000 */
  maxCatchUp?: number;
  /** Message inserts running at once, beyond which sends are stored together (1 for the embedded database). @default 4 */
  concurrentWrites?: number;
}

/** The chat server's services and the connection hooks that feed presence, built once per server. */
export async function createAppServices(opts: AppServicesOptions): Promise<{
  services: Services;
  hooks: ServerHooks<ChatContext>;
  /** The chat's own metrics, for `/metrics`. */
  metrics: AppMetrics;
  /** Problems worth a `degraded: true` on `/healthz` (Redis unreachable). */
  health: () => { degraded: boolean; redis?: 'ok' | 'unreachable' };
  close(): Promise<void>;
}> {
  const { redis } = opts;
  const prefix = opts.redisPrefix ?? 'sp:';
  const bus =
    opts.bus ??
    (redis === undefined
      ? new MemoryFanoutBus()
      : await RedisFanoutBus.create({ link: redis, nodeId: opts.nodeId, log: opts.log, prefix }));
  const store =
    opts.store ??
    (redis === undefined ? new MemoryPresenceStore() : new RedisPresenceStore({ commands: redis.commands, prefix }));
  const typingStore =
    opts.typingStore ??
    (redis === undefined ? new MemoryTypingStore() : new RedisTypingStore({ commands: redis.commands, prefix }));
  // The three call each other back (declared below; the callbacks run only once all are up).
  const metrics = new AppMetrics();
  const chat = new ChatService({
    db: opts.db,
    observe: {
      messageStored: () => metrics.messagesStored.inc(),
      typingEvent: () => metrics.typingEvents.inc(),
    },
    onMembersChanged: (roomId, change) => {
      roomPresence.membersChanged(roomId, change);
      if (change.left !== undefined) presence.accessChanged(change.left);
    },
    bus,
    typing: typingStore,
    log: opts.log,
    ...(opts.typingTimeoutMs === undefined ? {} : { typingTimeoutMs: opts.typingTimeoutMs }),
    ...(opts.maxCatchUp === undefined ? {} : { maxCatchUp: opts.maxCatchUp }),
    ...(opts.concurrentWrites === undefined ? {} : { concurrentWrites: opts.concurrentWrites }),
  });
  const membership = opts.membership ?? chat.repo;
  const roomPresence = new RoomPresenceService({
    bus,
    log: opts.log,
    members: {
      membersOf: (roomId) => chat.repo.membersOf(roomId),
      membersAmong: (roomId, userIds) => chat.repo.membersAmong(roomId, userIds),
      roomIdsOf: (userId) => chat.roomIdsOf(userId),
    },
    read: (ids) => presence.read(ids),
    ...(opts.presenceBatchMs === undefined ? {} : { batchMs: opts.presenceBatchMs }),
    ...(opts.roomPresenceListLimit === undefined ? {} : { listLimit: opts.roomPresenceListLimit }),
  });
  const presence = new PresenceManager({
    store,
    membership,
    bus,
    lastSeen: new DbLastSeenStore(opts.db),
    log: opts.log,
    nodeId: opts.nodeId,
    onChange: (change) => {
      metrics.presenceChanges.inc();
      void Promise.all([chat.presenceChanged(change), roomPresence.changed(change)]).catch((error: unknown) =>
        opts.log.error({ err: error }, 'presence broadcast failed'),
      );
    },
    ...(opts.nodeLeaseMs === undefined ? {} : { leaseMs: opts.nodeLeaseMs }),
    ...(opts.idleAfterMs === undefined ? {} : { idleAfterMs: opts.idleAfterMs }),
    ...(opts.presenceBatchMs === undefined ? {} : { batchMs: opts.presenceBatchMs }),
  });
  await presence.start();
  const auth = new AuthService({ tokens: opts.tokens, db: opts.db, bus, log: opts.log });
  // Redis may have lost this node's devices while it was away (or restarted empty).
  const stopReconnect = redis?.onReconnect(() => presence.resync());
  return {
    services: {
      db: opts.db,
      tokens: opts.tokens,
      auth,
      presence,
      chat,
      membership,
      roomPresence,
    },
    hooks: {
      onConnectionOpen: (connection) => {
        // Revoked between its sign-in check and now: the revocation found no socket to close.
        const credentials = connection.credentials;
        if (credentials !== null && auth.revokedRecently(credentials)) {
          connection.socket?.close(4001, 'signed out');
          return;
        }
        return presence.connectionOpened(connection);
      },
      onConnectionClose: (connection) => presence.connectionClosed(connection),
      onCall: (connection) => presence.activity(connection),
      onStopping: () => presence.handOff(),
    },
    metrics,
    health: () =>
      redis === undefined
        ? { degraded: false }
        : { degraded: !redis.healthy, redis: redis.healthy ? 'ok' : 'unreachable' },
    async close() {
      stopReconnect?.();
      chat.close();
      roomPresence.close();
      auth.close();
      await presence.close();
      // What the caller passed in is the caller's (other nodes of one test may share it).
      if (opts.typingStore === undefined) await typingStore.close();
      if (opts.store === undefined) await store.close();
      if (opts.bus === undefined) await bus.close();
    },
  };
}
