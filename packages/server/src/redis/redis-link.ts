import type { Logger } from '@streampod/framework';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type Command, type RedisOptions } from 'ioredis';
import { StoreLatency } from '../util/store-latency.js';

/** The commands side of a link: one Redis, or a Redis Cluster routed by key. */
export type RedisCommands = Redis | Cluster;

export interface RedisLinkOptions {
  /** `redis://[user:password@]host:port[/db]`; a cluster is recognised by itself, from any one node. */
  url: string;
  log: Logger;
  /**
   * Longest wait between two reconnection attempts.
   * @default 2_000
   */
  maxRetryDelayMs?: number;
}

/** Told how long something may have gone missing, in ms. */
type Listener = (lostForMs: number) => void;

/**
 * Everything a node holds open to Redis: a command connection (one Redis or a Redis
 * Cluster, found out by asking the URL's node) and the sharded pub/sub subscriptions
 * (`SSUBSCRIBE`, one connection per shard), which work the same on one Redis and on a
 * Cluster. It reconnects by itself with backoff and says when it went down and came back,
 * so the state kept in Redis can be announced again and missed broadcasts read again.
 */
export class RedisLink {
  readonly commands: RedisCommands;
  readonly isCluster: boolean;
  /** Command times and failures, for `/metrics`. */
  readonly latency = new StoreLatency('streampod_redis_command', 'Redis commands by outcome (ok, error).');
  readonly #log: Logger;
  readonly #base: RedisOptions;
  /** By node key; each knows the channels subscribed on it (no map of channels beside: ~50 bytes a channel). */
  readonly #shards = new Map<string, Shard>();
  readonly #messageListeners = new Set<(channel: string, message: string) => void>();
  readonly #upListeners = new Set<Listener>();
  readonly #resubscribedListeners = new Set<Listener>();
  readonly #healthListeners = new Set<(healthy: boolean) => void>();
  #lastHealth = true;
  /** slot → owning node (`host:port`), on a cluster: where each channel is subscribed. */
  #slotOwners: string[] = [];
  #closed = false;

  private constructor(opts: { commands: RedisCommands; isCluster: boolean; log: Logger; base: RedisOptions }) {
    this.commands = opts.commands;
    this.isCluster = opts.isCluster;
    this.#log = opts.log;
    this.#base = opts.base;
    timeCommands(this.commands, this.latency);
    let downSince: number | undefined;
    this.commands.on('ready', () => {
      this.#healthChanged();
      if (downSince === undefined) return;
      const lostForMs = Date.now() - downSince;
      downSince = undefined;
      this.#log.info({ lostForMs }, 'redis: reconnected');
      for (const listener of [...this.#upListeners]) listener(lostForMs);
    });
    const down = () => {
      this.#healthChanged();
      if (downSince !== undefined || this.#closed) return;
      downSince = Date.now();
      this.#log.warn('redis: connection lost, retrying');
    };
    this.commands.on('close', down);
    this.commands.on('end', down);
    this.commands.on('error', (error: Error) => this.#log.debug({ err: error }, 'redis: connection error'));
  }

  /** Connects to `url` (one Redis or a Cluster) and resolves once commands can run. */
  static async connect(opts: RedisLinkOptions): Promise<RedisLink> {
    const url = new URL(opts.url);
    const maxDelay = opts.maxRetryDelayMs ?? 2_000;
    const base: RedisOptions = {
      ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
      ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
      // A command while Redis is away fails at once instead of piling up: callers resync later.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      lazyConnect: true,
    };
    const host = url.hostname || '127.0.0.1';
    const port = Number(url.port || 6379);
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    const probe = new Redis({ ...base, host, port, db, retryStrategy: () => null });
    probe.on('error', () => undefined);
    let isCluster: boolean;
    try {
      await probe.connect();
      isCluster = /cluster_enabled:1/.test(await probe.info('cluster'));
    } catch (error) {
      throw new Error(`REDIS_URL: cannot reach Redis at ${host}:${port} (${(error as Error).message})`, {
        cause: error,
      });
    } finally {
      probe.disconnect();
    }
    let commands: RedisCommands;
    if (isCluster) {
      const { retryStrategy: _unused, enableOfflineQueue: _also, ...redisOptions } = base;
      void _unused;
      void _also;
      commands = new Cluster([{ host, port }], {
        redisOptions,
        enableOfflineQueue: false,
        clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
        lazyConnect: true,
      });
    } else {
      commands = new Redis({ ...base, host, port, db });
    }
    const link = new RedisLink({ commands, isCluster, log: opts.log, base: { ...base, db } });
    await commands.connect();
    if (isCluster) await link.#refreshSlots();
    return link;
  }

  /** Whether commands run and every shard subscription connection is up. */
  get healthy(): boolean {
    if (this.commands.status !== 'ready') return false;
    for (const shard of this.#shards.values()) if (shard.redis.status !== 'ready' || shard.renewing) return false;
    return true;
  }

  /** Called with the new value whenever `healthy` changes. */
  onHealthChange(listener: (healthy: boolean) => void): () => void {
    this.#healthListeners.add(listener);
    return () => this.#healthListeners.delete(listener);
  }

  /** Resolves once `healthy` is `wanted` (at once if it is). */
  untilHealthy(wanted = true): Promise<void> {
    if (this.healthy === wanted) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.onHealthChange((healthy) => {
        if (healthy !== wanted) return;
        stop();
        resolve();
      });
    });
  }

  /** Shard subscriber connections open (one per Cluster master in use). */
  get shardCount(): number {
    return this.#shards.size;
  }

  /** Called after the command connection came back from an outage. */
  onReconnect(listener: Listener): () => void {
    this.#upListeners.add(listener);
    return () => this.#upListeners.delete(listener);
  }

  /** Called once a shard connection came back and its channels are subscribed again. */
  onResubscribed(listener: Listener): () => void {
    this.#resubscribedListeners.add(listener);
    return () => this.#resubscribedListeners.delete(listener);
  }

  /** Receives every sharded pub/sub message of this link's channels. */
  onMessage(listener: (channel: string, message: string) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  /** `SPUBLISH`: on a Cluster, to the shard that owns the channel's slot. */
  async publish(channel: string, message: string): Promise<void> {
    await this.commands.spublish(channel, message);
  }

  /**
   * `SSUBSCRIBE`s `channel` on the shard that owns it. Resolves once the subscription is
   * live, or at once while that shard is unreachable: it is subscribed again, and
   * `onResubscribed` fires, when the shard comes back.
   */
  async subscribe(channel: string): Promise<void> {
    if (this.#closed) throw new Error('the Redis link is closed');
    const shard = this.#shardFor(channel);
    shard.channels.add(channel);
    await shard.started;
    if (shard.redis.status !== 'ready') {
      // Subscribed when the shard is back, which then says that things may have been missed.
      shard.downSince ??= Date.now();
      return;
    }
    try {
      await shard.redis.ssubscribe(channel);
    } catch (error) {
      if (!shard.channels.has(channel)) return;
      if (/^(MOVED|ASK) /.test((error as Error).message)) {
        // The slot moved since we last asked: follow it.
        await this.#rehome();
        return;
      }
      // The connection stayed up (else 'ready' subscribes it again): try once more, later.
      this.#log.warn({ err: error, channel }, 'redis: subscribing failed; retrying');
      setTimeout(() => {
        if (shard.channels.has(channel) && !this.#closed) void this.subscribe(channel);
      }, 1_000).unref();
    }
  }

  /** `SUNSUBSCRIBE`s `channel`. */
  unsubscribe(channel: string): void {
    // One shard holds it (a few at most: one per Cluster master), looked through rather than kept per channel.
    for (const shard of this.#shards.values()) leave(shard, channel);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#rehomeTimer);
    for (const shard of this.#shards.values()) shard.redis.disconnect();
    this.#shards.clear();
    try {
      await this.commands.quit();
    } catch {
      this.commands.disconnect();
    }
  }

  /** The node key (`host:port`) that owns `channel`'s slot; the one node when not a cluster. */
  #nodeOf(channel: string): string {
    if (!(this.commands instanceof Cluster)) return 'single';
    const key = this.#slotOwners[calculateSlot(channel)];
    if (key === undefined) throw new Error(`redis: no node serves the slot of ${channel}`);
    return key;
  }

  #shardFor(channel: string): Shard {
    const key = this.#nodeOf(channel);
    let shard = this.#shards.get(key);
    if (shard === undefined) {
      shard = this.#openShard(key);
      this.#shards.set(key, shard);
    }
    return shard;
  }

  #openShard(key: string): Shard {
    const commands = this.commands;
    const target =
      commands instanceof Cluster
        ? { host: key.slice(0, key.lastIndexOf(':')), port: Number(key.slice(key.lastIndexOf(':') + 1)) }
        : { host: commands.options.host, port: commands.options.port, db: commands.options.db };
    const redis = new Redis({
      ...this.#base,
      ...target,
      // Subscriptions are ours to renew, so we know when they are live again.
      autoResubscribe: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
    });
    const shard: Shard = {
      key,
      redis,
      channels: new Set(),
      started: Promise.resolve(),
      renewing: false,
      downSince: undefined,
    };
    redis.on('error', (error: Error) => this.#log.debug({ err: error, shard: key }, 'redis: subscriber error'));
    redis.on('smessage', (channel: string, message: string) => {
      for (const listener of this.#messageListeners) listener(channel, message);
    });
    redis.on('close', () => {
      shard.downSince ??= Date.now();
      this.#healthChanged();
      // On a cluster the shard may have failed over: its slots may be served elsewhere now.
      if (this.isCluster && !this.#closed) this.#scheduleRehome();
    });
    redis.on('ready', () => {
      const channels = [...shard.channels];
      // Not healthy again until the subscriptions are live again.
      shard.renewing = true;
      void Promise.allSettled(channels.map((c) => redis.ssubscribe(c))).then(() => {
        shard.renewing = false;
        this.#healthChanged();
        const since = shard.downSince;
        shard.downSince = undefined;
        if (since === undefined) return;
        const lostForMs = Date.now() - since;
        this.#log.info({ shard: key, channels: channels.length, lostForMs }, 'redis: subscriptions renewed');
        for (const listener of [...this.#resubscribedListeners]) listener(lostForMs);
      });
    });
    shard.started = redis.connect().catch((error: unknown) => {
      this.#log.warn({ err: error, shard: key }, 'redis: subscriber connection failed, retrying');
    });
    return shard;
  }

  #rehomeTimer: NodeJS.Timeout | undefined;

  #scheduleRehome(): void {
    this.#rehomeTimer ??= setTimeout(() => {
      this.#rehomeTimer = undefined;
      this.#rehome().catch((error: unknown) => {
        this.#log.debug({ err: error }, 'redis: reading the cluster slots failed; retrying');
        this.#scheduleRehome();
      });
    }, 1_000);
    this.#rehomeTimer.unref();
  }

  /** Reads who serves which slot, and moves every channel whose slot changed hands. */
  async #rehome(): Promise<void> {
    const startedAt = Date.now();
    await this.#refreshSlots();
    let since: number | undefined;
    const moving: string[] = [];
    for (const shard of [...this.#shards.values()]) {
      for (const channel of [...shard.channels]) {
        if (this.#nodeOf(channel) === shard.key) continue;
        since = Math.min(since ?? startedAt, shard.downSince ?? startedAt);
        leave(shard, channel);
        moving.push(channel);
      }
    }
    if (since === undefined) return;
    await Promise.all(moving.map((channel) => this.subscribe(channel)));
    // What was published to them while they moved never reached us.
    const lostForMs = Date.now() - since;
    this.#log.info({ channels: moving.length, lostForMs }, 'redis: channels followed their slots');
    for (const listener of [...this.#resubscribedListeners]) listener(lostForMs);
  }

  #healthChanged(): void {
    const healthy = this.healthy;
    if (healthy === this.#lastHealth || this.#closed) return;
    this.#lastHealth = healthy;
    for (const listener of [...this.#healthListeners]) listener(healthy);
  }

  async #refreshSlots(): Promise<void> {
    if (!(this.commands instanceof Cluster)) return;
    // CLUSTER SLOTS → [[start, end, [host, port, id], …replicas], …]
    const ranges = (await this.commands.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    const owners: string[] = [];
    for (const [start, end, [host, port]] of ranges) {
      for (let slot = start; slot <= end; slot++) owners[slot] = `${host}:${port}`;
    }
    this.#slotOwners = owners;
  }
}

interface Shard {
  readonly key: string;
  readonly redis: Redis;
  readonly channels: Set<string>;
  started: Promise<void>;
  /** Subscribing its channels again after a reconnect. */
  renewing: boolean;
  /** Since when its channels may not have been live (undefined: they are). */
  downSince: number | undefined;
}

/** `SUNSUBSCRIBE`s `channel` on `shard`, if it is there (unsubscribed when not ready: not renewed on reconnect). */
function leave(shard: Shard, channel: string): void {
  if (!shard.channels.delete(channel)) return;
  if (shard.redis.status === 'ready') shard.redis.sunsubscribe(channel).catch(() => undefined);
}

/** Times every command the client sends, from sending to its answer or failure. */
function timeCommands(client: RedisCommands, latency: StoreLatency): void {
  const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
  const timed = (command: Command, ...rest: unknown[]): unknown => {
    const started = performance.now();
    command.promise.then(
      () => latency.observe(performance.now() - started, false),
      () => latency.observe(performance.now() - started, true),
    );
    return send(command, ...rest);
  };
  client.sendCommand = timed as typeof client.sendCommand;
}
