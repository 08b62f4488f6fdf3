import type { BusHandler, FanoutBus, Logger } from '@streampod/framework';
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

/** One object per subscription, so one function subscribed twice is two (a wrapper closure costs its context too). */
interface Subscriber {
  readonly handler: BusHandler<never>;
}

interface Topic {
  /**
   * One subscriber as itself, more in a set: most topics (a user's, a room's) have one
   * subscriber on a node, a `TopicIndex`, and a `Set` costs ~150 bytes.
   */
  subscribers: Subscriber | Set<Subscriber>;
  /** Until the Redis subscription is live (then dropped: a settled promise kept per topic is ~40 bytes). */
  live: Promise<void> | undefined;
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
  readonly #topics = new Map<string, Topic>();
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
    const subscriber: Subscriber = { handler };
    let entry = this.#topics.get(topic);
    if (entry === undefined) {
      const live = this.#link.subscribe(this.#prefix + topic);
      const created: Topic = { subscribers: subscriber, live };
      live.then(
        () => (created.live = undefined),
        () => undefined,
      );
      this.#topics.set(topic, (entry = created));
    } else {
      const held = entry.subscribers;
      entry.subscribers = held instanceof Set ? held.add(subscriber) : new Set([held, subscriber]);
    }
    const stop = () => this.#drop(topic, subscriber);
    try {
      if (entry.live !== undefined) await entry.live;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  unsubscribe<T>(topic: string, handler: BusHandler<T>): void {
    const held = this.#topics.get(topic)?.subscribers;
    if (held === undefined) return;
    for (const subscriber of held instanceof Set ? held : [held])
      if (subscriber.handler === handler) return this.#drop(topic, subscriber);
  }

  /** Ends one subscription; the last one of a topic leaves its channel. */
  #drop(topic: string, subscriber: Subscriber): void {
    const held = this.#topics.get(topic)?.subscribers;
    if (held instanceof Set) {
      if (!held.delete(subscriber) || held.size > 0) return;
    } else if (held !== subscriber) return;
    this.#topics.delete(topic);
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
    for (const topic of this.#topics.keys()) this.#link.unsubscribe(this.#prefix + topic);
    this.#topics.clear();
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
    const held = this.#topics.get(topic)?.subscribers;
    if (held === undefined) return;
    if (!(held instanceof Set)) return this.#call(held.handler, value, topic);
    // One removed during this loop is skipped if not reached yet (Set iteration).
    for (const { handler } of held) this.#call(handler, value, topic);
  }

  #call<T>(handler: BusHandler<never>, value: T, topic: string): void {
    try {
      (handler as BusHandler<T>)(value, topic);
    } catch (error) {
      this.#log.error({ err: error, topic }, 'fanout: a handler failed');
    }
  }

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
