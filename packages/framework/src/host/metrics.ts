import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own (several servers may share a process in tests). */
export class Metrics {
  readonly registry = new Registry();
  readonly calls = new Counter({
    name: 'streampod_calls_total',
    help: 'Procedure calls, by path and type.',
    labelNames: ['path', 'type'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'streampod_errors_total',
    help: 'Failed procedure calls and protocol errors, by path and tRPC code.',
    labelNames: ['path', 'code'] as const,
    registers: [this.registry],
  });
  readonly callDuration = new Histogram({
    name: 'streampod_call_duration_seconds',
    help: 'Time to answer a query or mutation.',
    labelNames: ['type', 'path'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'streampod_connections_refused_total',
    help: 'WebSockets refused or closed before use: caps, origins, sign-in timeouts, expired or revoked tokens.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly slowConsumers = new Counter({
    name: 'streampod_slow_consumers_total',
    help: 'Connections cut off for letting too much pile up unread: over their own budget or the server-wide one.',
    labelNames: ['budget'] as const,
    registers: [this.registry],
  });
  readonly droppedEvents = new Counter({
    name: 'streampod_dropped_events_total',
    help: 'Droppable events (typing, presence) not sent to a slow reader.',
    registers: [this.registry],
  });
  /** Events written to subscribers; a plain number on the hot path, read when scraped. */
  delivered = 0;
  readonly #included: Registry[] = [];
  /**
   * Each procedure's series, looked up once: a labelled `inc` or `observe` hashes its labels on
   * every call. Bounded: only the router's own procedures are counted here.
   */
  readonly #perPath = new Map<
    string,
    { calls: Counter.Internal; duration: Histogram.Internal<'type' | 'path'> | undefined }
  >();

  constructor(gauges: { connections: () => number; openStreams: () => number; unsentBytes: () => number }) {
    new Gauge({
      name: 'streampod_connections',
      help: 'Open WebSocket connections.',
      registers: [this.registry],
      collect() {
        this.set(gauges.connections());
      },
    });
    new Gauge({
      name: 'streampod_open_streams',
      help: 'Open subscriptions (streams) over all connections.',
      registers: [this.registry],
      collect() {
        this.set(gauges.openStreams());
      },
    });
    new Gauge({
      name: 'streampod_unsent_bytes',
      help: 'Bytes queued to WebSocket clients and not yet sent, over all connections (bounded by maxTotalBufferedBytes).',
      registers: [this.registry],
      collect() {
        this.set(gauges.unsentBytes());
      },
    });
    const delivered = () => this.delivered;
    new Counter({
      name: 'streampod_deliveries_total',
      help: 'Stream events written to subscribers (one per event per subscriber).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(delivered());
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'streampod_' });
  }

  /** Counts a call of a procedure, and its time unless it opened a stream. */
  called(path: string, type: string, durationMs: number): void {
    let series = this.#perPath.get(path);
    if (series === undefined) {
      series = {
        calls: this.calls.labels({ path, type }),
        duration: type === 'subscription' ? undefined : this.callDuration.labels({ type, path }),
      };
      this.#perPath.set(path, series);
    }
    series.calls.inc();
    series.duration?.observe(durationMs / 1000);
  }

  /** Adds an app's own metrics (messages stored, say) to what `/metrics` shows. */
  include(registry: Registry): void {
    this.#included.push(registry);
  }

  /** The Prometheus text exposition. */
  async render(): Promise<string> {
    const parts = await Promise.all([this.registry, ...this.#included].map((r) => r.metrics()));
    return parts.join('\n');
  }
}
