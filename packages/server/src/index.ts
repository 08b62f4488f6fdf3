// Framework
export { Endpoint, StreamingEndpoint } from './core/endpoint.js';
export type {
  CallMethod,
  StreamMethod,
  MethodSpec,
  EndpointStreamSpec,
  StreamSessionOf,
  EndpointMap,
  InputOf,
  Schema,
} from './core/endpoint.js';
export { Session, StreamingSession, cursorOf } from './core/session.js';
export type { SessionRuntime, StreamSink } from './core/session.js';
export { Connection } from './core/connection.js';
export type { AuthenticatedUser, Credentials, TransportSocket, TransportKind } from './core/connection.js';
export type { Services } from './core/services.js';
export { OutgoingEvent } from './core/outgoing-event.js';
export { fail } from './core/errors.js';
export { describeEndpoints } from './core/procedures.js';
export type { ProcedureDescriptor, ProcedureKind } from './core/procedures.js';
export type { RequestContext, StreampodRouter } from './core/router.js';
export { StreampodServer } from './server.js';
export type { StreampodServerOptions, ServerHooks } from './server.js';
export { TokenService } from './auth/tokens.js';
export type { TokenServiceOptions } from './auth/tokens.js';
export { hashPassword, verifyPassword } from './auth/passwords.js';
export { loadAuthSecret } from './auth/secret.js';
export { createLogger } from './observability/logger.js';
export type { Logger } from './observability/logger.js';
export { Metrics } from './observability/metrics.js';
export { openDatabase } from './db/index.js';
export type { Database, DatabaseKind, DB } from './db/index.js';
// The chat app
export { appEndpoints } from './app/endpoints.js';
export { startChatServer } from './app/chat-server.js';
export type { ChatServer } from './app/chat-server.js';
export { readConfig, ChatServerConfig } from './app/config.js';
