import { tracked } from '@trpc/server';
import type { OutgoingEvent } from './outgoing-event.js';
import type { StreamSink } from './session.js';

/** The open end of a push stream, for the transport that opened it. */
export interface StreamHandle {
  /** Ends the stream from the client side (stop or disconnect); resolves once closed. */
  close(): Promise<void>;
}

const PUSH_STREAM = Symbol.for('streampod.push-stream');

/**
 * What an endpoint-level stream's subscription resolves to. Our WebSocket transport
 * calls `open(sink)`, so every subscriber is one map entry writing straight to its socket:
 * no generator, no queue. Any other tRPC adapter sees a plain async iterable.
 */
export class PushStream<T> implements AsyncIterable<T> {
  readonly [PUSH_STREAM] = true;

  constructor(private readonly start: (sink: StreamSink) => Promise<StreamHandle>) {}

  /** Opens the stream into `sink`; rejects when the endpoint refuses it. */
  open(sink: StreamSink): Promise<StreamHandle> {
    return this.start(sink);
  }

  /** The slow path, for adapters that iterate (HTTP SSE, server-side callers). */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const queue: unknown[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
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
    });
    return {
      async next(): Promise<IteratorResult<T>> {
        await opened;
        while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
        if (queue.length > 0) return { done: false, value: queue.shift() as T };
        return { done: true, value: undefined };
      },
      async return(): Promise<IteratorResult<T>> {
        ended = true;
        await (await opened).close();
        return { done: true, value: undefined };
      },
    };
  }
}

export function isPushStream(value: unknown): value is PushStream<unknown> {
  return typeof value === 'object' && value !== null && PUSH_STREAM in value;
}
