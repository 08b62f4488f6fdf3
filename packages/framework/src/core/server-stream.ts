import { tracked } from '@trpc/server';
import type { OutgoingEvent } from './outgoing-event.js';
import type { StreamSink } from './session.js';

/** The open end of a push stream, for the transport that opened it. */
export interface StreamHandle {
  /** The procedure path, for the errors the stream may end with. */
  readonly path: string;
  /** Ends the stream from the client side (stop or disconnect); resolves once closed. */
  stop(): Promise<void>;
}

const PUSH_STREAM = Symbol.for('streampod.push-stream');

/**
 * What every compiled subscription resolves to. Our WebSocket transport calls
 * `open(sink)`, so every subscriber is one map entry writing straight to its socket: no
 * generator, no queue. Any other tRPC adapter sees a plain async iterable.
 */
export class PushStream<T> implements AsyncIterable<T> {
  readonly [PUSH_STREAM] = true;

  /**
   * @param start opens the stream into a sink
   * @param signal on the iterating path, closes the stream when aborted (e.g. an HTTP client going away)
   */
  constructor(
    private readonly start: (sink: StreamSink) => Promise<StreamHandle>,
    private readonly signal?: AbortSignal,
  ) {}

  /** Opens the stream into `sink`; rejects when the endpoint refuses it. */
  open(sink: StreamSink): Promise<StreamHandle> {
    return this.start(sink);
  }

  /** The slow path, for adapters that iterate (HTTP SSE, server-side callers). */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const queue: unknown[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    let failure: unknown;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const opened = this.start({
      send(event: OutgoingEvent, eventId: string | undefined) {
        queue.push(eventId === undefined ? event.value : tracked(eventId, event.value));
        notify();
      },
      end() {
        ended = true;
        notify();
      },
      error(cause: unknown) {
        failure = cause;
        ended = true;
        notify();
      },
    });
    // next() reports a refused stream; this keeps an unread refusal from going unhandled.
    opened.catch(() => undefined);
    const onAbort = () => {
      ended = true;
      notify();
      opened.then(
        (handle) => handle.stop(),
        () => undefined,
      );
    };
    if (this.signal?.aborted === true) onAbort();
    else this.signal?.addEventListener('abort', onAbort, { once: true });
    return {
      async next(): Promise<IteratorResult<T>> {
        await opened;
        while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
        if (queue.length > 0) return { done: false, value: queue.shift() as T };
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the source failed with, as it was
        if (failure !== undefined) throw failure;
        return { done: true, value: undefined };
      },
      async return(): Promise<IteratorResult<T>> {
        ended = true;
        await (await opened).stop();
        return { done: true, value: undefined };
      },
    };
  }
}

export function isPushStream(value: unknown): value is PushStream<unknown> {
  return typeof value === 'object' && value !== null && PUSH_STREAM in value;
}
