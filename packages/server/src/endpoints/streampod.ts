import { initStreampod, type Session, type StreamSession } from '@streampod/framework';
import { limits, transformer } from '@streampod/protocol';
import type { Kysely } from 'kysely';
import type { AuthService } from '../auth/auth-service.js';
import type { AuthenticatedUser, TokenService } from '../auth/tokens.js';
import type { ChatService } from '../chat/chat-service.js';
import type { DB } from '../db/index.js';
import type { Membership } from '../presence/membership.js';
import type { PresenceManager } from '../presence/presence-manager.js';
import type { RoomPresenceService } from '../presence/room-presence.js';

/**
 * What the chat server's endpoints reach through `session.services`. Endpoints stay plain
 * definitions (the code generator loads them without a database); what they need at run
 * time hangs off here.
 */
export interface Services {
  readonly db: Kysely<DB>;
  readonly tokens: TokenService;
  /** Tokens that stand (user, epoch, not signed out), and ending them on every node. */
  readonly auth: AuthService;
  readonly presence: PresenceManager;
  /** Who shares a room with whom: decides whose presence a user may see. */
  readonly membership: Membership;
  readonly chat: ChatService;
  /** Who of a room's members is here (`presence.subscribeToRoom`). */
  readonly roomPresence: RoomPresenceService;
}

/** What every chat endpoint sees: its services, and a user that is a row of `users`. */
export interface ChatContext {
  services: Services;
  user: AuthenticatedUser;
}

/** The framework, set up for the chat contract: its transformer and frame limit. */
export const sp = initStreampod
  .context<ChatContext>()
  .create({ transformer, limits: { maxFrameBytes: limits.maxFrameBytes } });

/** The session of a chat call. */
export type ChatCallSession = Session<ChatContext>;
/** The session of a chat stream sending `TEvent`s. */
export type ChatStreamSession<TEvent, TInput = unknown> = StreamSession<ChatContext, TEvent, TInput>;
