/** Test helpers for apps and packages built on streampod: real servers, real sockets. */
export { startTestServer } from './test-server.js';
export type { TestServer, TestServerOptions } from './test-server.js';
export { stockWsClient, stockHttpClient } from './trpc-clients.js';
export type { StockWsClient } from './trpc-clients.js';
export { RawWsClient } from './raw-ws.js';
export { Recorder } from './recorder.js';
export { FreezableProxy } from './freezable-proxy.js';
export { ProbeEndpoint, CounterEndpoint } from './probe-endpoint.js';
export { createTestPostgres } from './postgres.js';
export type { TestPostgres } from './postgres.js';
export { startTestRedis, startTestRedisCluster } from './redis-server.js';
export type { TestRedis, TestRedisCluster } from './redis-server.js';
export { createRoom, openChatStream, send } from './chat-helpers.js';
export { connectDevice, registerUser, watchPresence } from './presence-helpers.js';
export type { ServerAddress } from './presence-helpers.js';
export { failureOf } from './failure.js';
