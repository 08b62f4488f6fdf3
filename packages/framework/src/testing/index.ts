/** Test helpers for apps built on streampod: real servers, real sockets, conformance suites. */
export { startTestServer } from './test-server.js';
export type { TestServer } from './test-server.js';
export { stockWsClient, stockHttpClient } from './trpc-clients.js';
export type { StockWsClient } from './trpc-clients.js';
export { RawWsClient } from './raw-ws.js';
export { Recorder } from './recorder.js';
export { FreezableProxy } from './freezable-proxy.js';
export { failureOf } from './failure.js';
export { fanoutBusCases } from './fanout-bus.case.js';
export type { FanoutBusNodes } from './fanout-bus.case.js';
// A small app of the framework's own, for testing clients and transports against every kind of method.
export { sp as probeApp, startProbeServer, authenticateProbe, ProbeEndpoint, CounterEndpoint } from './probe-app.js';
export type { ProbeContext } from './probe-app.js';
