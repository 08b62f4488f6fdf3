import { tracked } from '@trpc/server';
import type { OutgoingEvent } from './outgoing-event.js';
import type { StreamHandle, StreamSink } from './session.js';

const PUSH_STREAM = Symbol.for('streampod.push-stream');

/**
 * What every compiled subscription resolves to. Our WebSocket transport calls
 * `open(sink, key)`, so every subscriber is one map entry writing straight to its socket: no
 * generator, no queue. Any other tRPC adapter sees a plain async iterable.
 */
export class PushStream<T> implements AsyncIterable<T> {
  readonly [PUSH_STREAM] = true;

  /**
   * @param start opens the stream into a sink
   * @param signal on the iterating path, closes the stream when aborted (e.g. an HTTP client going away)
   */
  constructor(
    private readonly start: (sink: StreamSink, key: unknown) => Promise<StreamHandle>,
    private readonly signal?: AbortSignal,
  ) {}

  /** Opens the stream into `sink`, which tells it apart by `key`; rejects when the endpoint refuses it. */
  open<K>(sink: StreamSink<K>, key: K): Promise<StreamHandle> {
    return this.start(sink, key);
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
    // One stream per sink here: the key says nothing.
    const sink: StreamSink<undefined> = {
      send(_key, event: OutgoingEvent, eventId: string | undefined) {
        queue.push(eventId === undefined ? event.value : tracked(eventId, event.value));
        notify();
      },
      opened: () => undefined,
      end() {
        ended = true;
        notify();
      },
      error(_key, cause: unknown) {
        failure = cause;
        ended = true;
        notify();
      },
    };
    const opened = this.start(sink, undefined);
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
