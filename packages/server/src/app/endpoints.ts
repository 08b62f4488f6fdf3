import { AuthEndpoint } from '../endpoints/auth-endpoint.js';
import { UsersEndpoint } from '../endpoints/users-endpoint.js';
import { PresenceEndpoint } from '../endpoints/presence-endpoint.js';
import { ChatEndpoint } from '../endpoints/chat-endpoint.js';

/**
 * Every endpoint of the chat server, by name: the one place they are registered. The
 * router, `pnpm generate` (the typed client) and the contract snapshot all read this.
 */
export const appEndpoints = {
  auth: new AuthEndpoint(),
  users: new UsersEndpoint(),
  presence: new PresenceEndpoint(),
  chat: new ChatEndpoint(),
};
