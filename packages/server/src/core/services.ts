import type { TokenService } from '../auth/tokens.js';
import type { ChatService } from '../chat/chat-service.js';
import type { Membership } from '../presence/membership.js';
import type { PresenceManager } from '../presence/presence-manager.js';

/**
 * The server-wide services endpoints reach through `session.services`. Endpoints stay
 * plain definitions (the code generator loads them without a database); what they need
 * at run time hangs off here. Apps add their own by declaration merging:
 * `declare module '@streampod/server' { interface Services { mailer: Mailer } }`.
 */
export interface Services {
  readonly tokens: TokenService;
  readonly presence: PresenceManager;
  /** Who shares a room with whom: decides whose presence a user may see. */
  readonly membership: Membership;
  readonly chat: ChatService;
}
