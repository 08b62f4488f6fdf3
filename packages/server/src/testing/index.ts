/** Test helpers for the chat server: a real server per test, chat and presence clients, Postgres and Redis. */
export { startChatTestServer } from './test-server.js';
export { itWithDatabase } from './database-fixture.js';
export type { ChatTestServer, ChatTestServerOptions } from './test-server.js';
export { createTestPostgres } from './postgres.js';
export type { TestPostgres } from './postgres.js';
export { startTestRedis, startTestRedisCluster } from './redis-server.js';
export type { TestRedis, TestRedisCluster } from './redis-server.js';
export { createRoom, openChatStream, send } from './chat-helpers.js';
export { connectDevice, registerUser, watchPresence, watchRoom } from './presence-helpers.js';
export type { ServerAddress } from './presence-helpers.js';
