import { interned, stopOnce, TopicHandlers, type BusHandler, type FanoutBus, type Logger } from '@streampod/framework';
import { transformer } from '@streampod/protocol';
import type { RedisLink } from '../redis/redis-link.js';

export interface RedisFanoutBusOptions {
  link: RedisLink;
  /** This node's id: a node skips its own messages, which it delivered locally already. */
  nodeId: string;
  log: Logger;
  /**
   * Prefix of every channel, so several installations can share one Redis.
   * @default 'sp:'
   */
  prefix?: string;
  /** Counts each value that could not be handed to Redis (for metrics). */
  onPublishError?: (error: unknown) => void;
}

/**
 * The many-node bus, on Redis sharded pub/sub. One channel per topic, subscribed by a node
 * only while it has handlers there; a value is serialized once, published once (`SPUBLISH`),
 * handed to this node's handlers at once and to every other node's by Redis. Each message
 * names its node, so no node delivers a value twice.
 */
export class RedisFanoutBus implements FanoutBus {
  readonly #link: RedisLink;
  readonly #nodeId: string;
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #resyncChannel: string;
  readonly #onPublishError: ((error: unknown) => void) | undefined;
  /** Each topic's handlers: most topics (a user's, a room's) have one on a node, a `TopicIndex`'s. */
  readonly #topics = new TopicHandlers();
  /** Topics whose Redis subscription is on its way, until it is live (a settled promise kept per topic is ~40 bytes). */
  readonly #pending = new Map<string, Promise<void>>();
  readonly #resyncListeners = new Set<(lostForMs: number) => void>();
  readonly #stops: (() => void)[] = [];
  /** Since when publishes have been failing (undefined: they go through). */
  #failingSince: number | undefined;
  #failures = 0;
  #lastFailureLog = 0;
  #closed = false;

  private constructor(opts: RedisFanoutBusOptions) {
    this.#link = opts.link;
    this.#nodeId = opts.nodeId;
    this.#log = opts.log;
    this.#prefix = opts.prefix ?? 'sp:';
    this.#resyncChannel = `${this.#prefix}resync`;
    this.#onPublishError = opts.onPublishError;
  }

  /** A bus on `link`, live once it listens for other nodes' resync notices. */
  static async create(opts: RedisFanoutBusOptions): Promise<RedisFanoutBus> {
    const bus = new RedisFanoutBus(opts);
    bus.#stops.push(
      opts.link.onMessage((channel, message) => bus.#receive(channel, message)),
      // Our subscriptions were down: whatever was published meanwhile never reached us.
      opts.link.onResubscribed((lostForMs) => bus.#resync(lostForMs)),
      // Our commands failed meanwhile: what we wrote may not have been told to anyone, us
      // included, and the other nodes may have missed our publishes.
      opts.link.onReconnect((lostForMs) => {
        bus.#resync(lostForMs);
        bus.#announceResync(lostForMs);
      }),
    );
    await opts.link.subscribe(bus.#resyncChannel);
    return bus;
  }

  publish<T>(topic: string, value: T): void {
    if (this.#closed) return;
    this.#deliver(topic, value);
    let payload: string;
    try {
      payload = `${this.#nodeId}\n${JSON.stringify(transformer.serialize(value))}`;
    } catch (error) {
      this.#failed(topic, error);
      return;
    }
    this.#link.publish(this.#prefix + topic, payload).then(
      () => {
        if (this.#failingSince === undefined) return;
        // Publishes go through again: the other nodes may have missed what did not.
        const lostForMs = Date.now() - this.#failingSince;
        this.#failingSince = undefined;
        this.#announceResync(lostForMs);
      },
      (error: unknown) => this.#failed(topic, error),
    );
  }

  async subscribe<T>(topic: string, handler: BusHandler<T>): Promise<() => void> {
    if (this.#closed) throw new Error('the bus is closed');
    if (!this.#topics.has(topic)) {
      // Kept by the link, and by ioredis as a property name: one flat copy for both (see `interned`).
      const subscribing = this.#link.subscribe(interned(this.#prefix + topic));
      this.#pending.set(topic, subscribing);
      // A failed one stays, so whoever joins the topic before it is dropped fails too.
      subscribing.then(
        () => this.#pending.get(topic) === subscribing && this.#pending.delete(topic),
        () => undefined,
      );
    }
    this.#topics.add(topic, handler);
    const live = this.#pending.get(topic);
    const stop = stopOnce(() => this.#drop(topic, handler));
    try {
      if (live !== undefined) await live;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  unsubscribe<T>(topic: string, handler: BusHandler<T>): void {
    this.#drop(topic, handler);
  }

  /** Ends one subscription; the last one of a topic leaves its channel. */
  #drop<T>(topic: string, handler: BusHandler<T>): void {
    if (!this.#topics.remove(topic, handler) || this.#topics.has(topic)) return;
    this.#pending.delete(topic);
    this.#link.unsubscribe(this.#prefix + topic);
  }

  onResync(listener: (lostForMs: number) => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  /** The Redis link underneath (health, shards). */
  get link(): RedisLink {
    return this.#link;
  }

  /** Topics this node is subscribed to (for leak checks). */
  get topicCount(): number {
    return this.#topics.size;
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const stop of this.#stops) stop();
    for (const topic of this.#topics.topics()) this.#link.unsubscribe(this.#prefix + topic);
    this.#topics.clear();
    this.#pending.clear();
    this.#resyncListeners.clear();
    return Promise.resolve();
  }

  #receive(channel: string, message: string): void {
    if (this.#closed) return;
    if (channel === this.#resyncChannel) {
      const [from, lostForMs] = message.split(' ');
      if (from !== this.#nodeId) this.#resync(Number(lostForMs) || 60_000);
      return;
    }
    if (!channel.startsWith(this.#prefix)) return;
    const newline = message.indexOf('\n');
    if (newline === -1 || message.slice(0, newline) === this.#nodeId) return;
    const topic = channel.slice(this.#prefix.length);
    if (!this.#topics.has(topic)) return;
    let value: unknown;
    try {
      value = transformer.deserialize(
        JSON.parse(message.slice(newline + 1)) as Parameters<typeof transformer.deserialize>[0],
      );
    } catch (error) {
      this.#log.error({ err: error, topic }, 'fanout: a message from Redis could not be read');
      return;
    }
    this.#deliver(topic, value);
  }

  #deliver<T>(topic: string, value: T): void {
    this.#topics.deliver(topic, value, this.#call);
  }

  /** Every delivery's guard: one handler's failure is logged and the others still get the value. */
  readonly #call = <T>(handler: BusHandler<T>, value: T, topic: string): void => {
    try {
      handler(value, topic);
    } catch (error) {
      this.#log.error({ err: error, topic }, 'fanout: a handler failed');
    }
  };

  #resync(lostForMs: number): void {
    for (const listener of [...this.#resyncListeners]) listener(lostForMs);
  }

  /** Tells every other node that some of our publishes may not have reached it. */
  #announceResync(lostForMs: number): void {
    this.#link.publish(this.#resyncChannel, `${this.#nodeId} ${Math.ceil(lostForMs)}`).catch(() => {
      this.#failingSince ??= Date.now() - lostForMs;
    });
  }

  #failed(topic: string, error: unknown): void {
    this.#onPublishError?.(error);
    this.#failingSince ??= Date.now();
    this.#failures++;
    // One line now and then, not one per message, while Redis is away.
    const now = Date.now();
    if (now - this.#lastFailureLog < 10_000) return;
    this.#lastFailureLog = now;
    this.#log.warn(
      { err: error, topic, failures: this.#failures },
      'fanout: publishing to Redis failed; other nodes will read what they missed',
    );
    this.#failures = 0;
  }
}
