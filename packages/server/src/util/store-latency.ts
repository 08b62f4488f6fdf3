import { Histogram, Registry } from 'prom-client';

const BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

/**
 * Time taken by one store's operations (the database's queries, Redis' commands), failures
 * included under `outcome="error"`: what operators look at first when calls get slow.
 */
export class StoreLatency {
  readonly registry = new Registry();
  readonly #seconds: Histogram<'outcome'>;
  /** Both series, looked up once: `observe` with labels hashes them on every call (~2 % of a send's CPU on PGlite). */
  readonly #ok: Histogram.Internal<'outcome'>;
  readonly #error: Histogram.Internal<'outcome'>;

  /** @param name e.g. `streampod_database_query` (becomes `…_duration_seconds`) */
  constructor(name: string, help: string) {
    this.#seconds = new Histogram({
      name: `${name}_duration_seconds`,
      help,
      labelNames: ['outcome'] as const,
      buckets: BUCKETS,
      registers: [this.registry],
    });
    this.#ok = this.#seconds.labels({ outcome: 'ok' });
    this.#error = this.#seconds.labels({ outcome: 'error' });
  }

  observe(ms: number, failed: boolean): void {
    (failed ? this.#error : this.#ok).observe(ms / 1000);
  }
}
