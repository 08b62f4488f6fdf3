// The framework: endpoints, sessions, the router compiler, the host.
export { initStreampod } from './init.js';
export type { Streampod, StreampodOptions, StreampodLimits } from './init.js';
export { Endpoint } from './core/endpoint.js';
export type {
  CallMethod,
  CallSpec,
  SubscriptionMethod,
  SubscriptionSpec,
  EndpointStream,
  EndpointStreamSpec,
  EndpointStreamHooks,
  EndpointMap,
  InputOf,
  Schema,
} from './core/endpoint.js';
export { Session, StreamSession, MessageSession, cursorOf } from './core/session.js';
export type { AppContext, SessionRuntime, StreamHandle, StreamSink } from './core/session.js';
export { Connection } from './core/connection.js';
export type { UserLike, Credentials, TransportSocket, TransportKind } from './core/connection.js';
export { OutgoingEvent } from './core/outgoing-event.js';
export type { Serializer } from './core/outgoing-event.js';
export { fail, rpcError } from './core/errors.js';
export { describeEndpoints } from './core/procedures.js';
export type { ProcedureDescriptor, ProcedureKind } from './core/procedures.js';
export type {
  BeforeCall,
  CallInfo,
  ErrorTranslator,
  RequestContext,
  StreampodRouter,
  Transformer,
} from './core/router.js';
export type { ConnectionLimits } from './core/ws-rpc.js';
export { StreampodServer } from './host/server.js';
export type { StreampodServerOptions, ServerHooks } from './host/server.js';
export type { ConnectionGate, UpgradeRequest } from './adapters/ws.js';
export { allowOrigins, originPolicy, type OriginPolicy } from './host/origins.js';
export { createLogger } from './host/logger.js';
export type { Logger, LoggerOptions } from './host/logger.js';
export { Metrics } from './host/metrics.js';
// Fan-out: the one path broadcasts take between producers and the nodes of subscribers.
export type { FanoutBus, BusHandler } from './fanout/fanout-bus.js';
export { MemoryFanoutBus, MemoryFanoutBackend } from './fanout/memory-fanout-bus.js';
export { TopicIndex } from './fanout/topic-index.js';
export { TopicHandlers, stopOnce } from './fanout/topic-handlers.js';
export { interned } from './core/interned.js';
export { SetMap, addTo, removeFrom, valuesOf, type SmallSet, type SmallSetStore } from './core/small-sets.js';
