import { Retrier } from '../runtime/errors.js';
import type { Subscription } from '../runtime/subscription.js';

export interface RetryingSubscriptionOptions<TEvent> {
  readonly subscribe: () => Subscription<TEvent>;
  readonly onData: (event: TEvent) => void;
  readonly onFailed: (error: Error) => void;
  /** Names the stream in the error when the server ends it. */
  readonly name: string;
}

/**
 * A server subscription that outlives passing failures (a server restarting, a database
 * blip): it subscribes again with jittered backoff, the fresh snapshot bringing the state
 * up to date, and reports a final failure (FORBIDDEN, retries used up) once.
 */
export class RetryingSubscription<TEvent> {
  readonly #retrier = new Retrier();
  readonly #opts: RetryingSubscriptionOptions<TEvent>;
  #stop: (() => void) | undefined;
  #stopped = false;

  constructor(opts: RetryingSubscriptionOptions<TEvent>) {
    this.#opts = opts;
    this.#start();
  }

  /** The server subscription is open. */
  get open(): boolean {
    return this.#stop !== undefined;
  }

  stop(): void {
    this.#stopped = true;
    this.#retrier.cancel();
    this.#stop?.();
    this.#stop = undefined;
  }

  #start(): void {
    let ended = false;
    const end = (error: Error) => {
      ended = true;
      this.#stop = undefined;
      if (this.#stopped) return;
      if (!this.#retrier.retry(error, () => this.#start())) this.#opts.onFailed(error);
    };
    const stop = this.#opts.subscribe().listen({
      onData: (event) => {
        this.#retrier.succeeded();
        this.#opts.onData(event);
      },
      onError: end,
      // The server ends a stream only when it goes away (a restart): subscribe again.
      onComplete: () => end(new Error(`${this.#opts.name}: the server ended the subscription`)),
    });
    if (!ended) this.#stop = stop;
  }
}
