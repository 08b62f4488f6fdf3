import type { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

/** What a subscriber is told. */
export interface SubscriptionHandlers<TEvent> {
  onData?(event: TEvent): void;
  /** The server accepted the subscription (again, after a reconnect). */
  onStarted?(): void;
  /** The subscription failed; it is over. */
  onError?(error: TRPCClientError<AnyTRPCRouter>): void;
  /** The server ended the subscription; it is over. */
  onComplete?(): void;
}

/** How a subscription reaches the transport; the client provides it. */
export interface SubscriptionTransport {
  subscribe(path: string, input: unknown, handlers: Required<SubscriptionHandlers<unknown>>): { unsubscribe(): void };
  /** Keeps the subscription on the client's books, so it follows a rebuilt connection. */
  track(subscription: { reattach(): void; close(): void }): () => void;
}

/**
 * One subscription to a stream: listen with handlers (`listen`) or iterate it
 * (`for await`). It survives reconnects by itself; on a tracked stream it resumes after the
 * last event it saw, so nothing is missed and nothing is repeated.
 */
export class Subscription<TEvent> implements AsyncIterable<TEvent> {
  #started = false;
  #active: { unsubscribe(): void } | undefined;
  #untrack: (() => void) | undefined;
  #handlers: SubscriptionHandlers<TEvent> = {};
  #lastEventId: string | undefined;
  #ended = false;

  private readonly transport: SubscriptionTransport;
  readonly path: string;
  private readonly input: unknown;
  private readonly tracked: boolean;

  constructor(opts: { transport: SubscriptionTransport; path: string; input: unknown; tracked: boolean }) {
    this.transport = opts.transport;
    this.path = opts.path;
    this.input = opts.input;
    this.tracked = opts.tracked;
  }

  /** The id of the last event received, on a tracked stream. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Starts the subscription; returns the function that stops it. */
  listen(handlers: SubscriptionHandlers<TEvent>): () => void {
    if (this.#started) throw new Error(`${this.path}: this subscription was already started`);
    this.#started = true;
    this.#handlers = handlers;
    this.#untrack = this.transport.track(this);
    this.#attach();
    return () => this.close();
  }

  /** Stops the subscription. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#active?.unsubscribe();
    this.#active = undefined;
    this.#untrack?.();
  }

  /** @internal the client moved to a new connection: subscribe there, resuming. */
  reattach(): void {
    if (this.#ended) return;
    const previous = this.#active;
    this.#attach();
    // After #attach: the old subscription's "complete" now belongs to a stale attachment.
    previous?.unsubscribe();
  }

  /** Which attachment is current: handlers of older ones (a moved subscription) do nothing. */
  #attachment = 0;

  #attach(): void {
    const attachment = ++this.#attachment;
    const current = () => attachment === this.#attachment;
    const input =
      this.#lastEventId === undefined
        ? this.input
        : {
            ...(typeof this.input === 'object' && this.input !== null ? this.input : {}),
            lastEventId: this.#lastEventId,
          };
    this.#active = this.transport.subscribe(this.path, input, {
      onData: (data: unknown) => {
        if (!current()) return;
        if (this.tracked) {
          const envelope = data as { id: string; data: TEvent };
          this.#lastEventId = envelope.id;
          this.#handlers.onData?.(envelope.data);
        } else {
          this.#handlers.onData?.(data as TEvent);
        }
      },
      onStarted: () => {
        if (current()) this.#handlers.onStarted?.();
      },
      onError: (error) => {
        if (!current()) return;
        this.#finish();
        this.#handlers.onError?.(error);
      },
      onComplete: () => {
        if (!current()) return;
        this.#finish();
        this.#handlers.onComplete?.();
      },
    });
  }

  #finish(): void {
    this.#ended = true;
    this.#untrack?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<TEvent> {
    const queue: TEvent[] = [];
    let failure: Error | undefined;
    let done = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    this.listen({
      onData: (event) => {
        queue.push(event);
        notify();
      },
      onError: (error) => {
        failure = error;
        done = true;
        notify();
      },
      onComplete: () => {
        done = true;
        notify();
      },
    });
    return {
      next: async (): Promise<IteratorResult<TEvent>> => {
        while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
        if (queue.length > 0) return { done: false, value: queue.shift() as TEvent };
        if (failure !== undefined) throw failure;
        return { done: true, value: undefined };
      },
      return: (): Promise<IteratorResult<TEvent>> => {
        this.close();
        done = true;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
