// The presence and chat server, built on @streampod/framework.
export { sp } from './endpoints/streampod.js';
export type { ChatContext, Services, ChatCallSession, ChatStreamSession } from './endpoints/streampod.js';
export { TokenService } from './auth/tokens.js';
export type { AuthenticatedUser, TokenServiceOptions } from './auth/tokens.js';
export { hashPassword, verifyPassword } from './auth/passwords.js';
export { loadAuthSecret } from './auth/secret.js';
export { openDatabase } from './db/index.js';
export type { Database, DatabaseKind, DB } from './db/index.js';
export { appEndpoints } from './app/endpoints.js';
export { createAppServices } from './app/services.js';
export type { AppServicesOptions } from './app/services.js';
export { createChatApp } from './app/chat-app.js';
export type { ChatApp, ChatAppOptions } from './app/chat-app.js';
export { startChatServer } from './app/chat-server.js';
export type { ChatServer } from './app/chat-server.js';
export { readConfig, ChatServerConfig } from './app/config.js';
// The Redis link and fan-out bus, for servers composed on the framework that share the chat server's Redis setup.
export { RedisLink } from './redis/redis-link.js';
export type { RedisLinkOptions } from './redis/redis-link.js';
export { RedisFanoutBus } from './fanout/redis-fanout-bus.js';
export type { RedisFanoutBusOptions } from './fanout/redis-fanout-bus.js';
