import { MemoryFanoutBackend, MemoryFanoutBus, type BusHandler, type FanoutBus } from '@streampod/framework';
import { MemoryTypingStore } from '../chat/memory-typing-store.js';
import type { Database } from '../db/index.js';
import { MemoryPresenceStore } from '../presence/memory-presence-store.js';
import { startChatTestServer, type ChatTestServer, type ChatTestServerOptions } from './test-server.js';

/**
 * Two servers in one process sharing one database, one bus backend, one presence store and
 * one typing store: two nodes, as they are on Redis, without Redis.
 */
export async function startTwoNodes(
  opts: ChatTestServerOptions & {
    database: Database;
    /** Wraps a node's bus (to delay or reorder what that node hears). */
    wrapBus?: (bus: FanoutBus, node: 'a' | 'b') => FanoutBus;
  },
): Promise<{ a: ChatTestServer; b: ChatTestServer } & AsyncDisposable> {
  const backend = new MemoryFanoutBackend();
  const presenceStore = new MemoryPresenceStore();
  const typingStore = new MemoryTypingStore();
  const { wrapBus, ...rest } = opts;
  const node = (name: 'a' | 'b') => {
    const bus = new MemoryFanoutBus(backend);
    return startChatTestServer({
      ...rest,
      nodeId: `node-${name}`,
      bus: wrapBus === undefined ? bus : wrapBus(bus, name),
      presenceStore,
      typingStore,
    });
  };
  const a = await node('a');
  const b = await node('b');
  return {
    a,
    b,
    [Symbol.asyncDispose]: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/**
 * A node's view of a bus outage, for `wrapBus`: while `down`, nothing published reaches the
 * wrapped bus's subscribers; `resync()` then calls its resync listeners, as a node does once
 * Redis is back.
 */
export function busOutage() {
  const resyncs = new Set<(lostForMs: number) => void>();
  const outage = {
    down: false,
    resync(lostForMs = 1_000): void {
      outage.down = false;
      for (const listener of resyncs) listener(lostForMs);
    },
    wrap(bus: FanoutBus): FanoutBus {
      return {
        publish: (topic, value) => bus.publish(topic, value),
        subscribe: <T>(topic: string, handler: BusHandler<T>) =>
          bus.subscribe<T>(topic, (value, heard) => (outage.down ? undefined : handler(value, heard))),
        onResync: (listener) => {
          resyncs.add(listener);
          const stop = bus.onResync(listener);
          return () => (resyncs.delete(listener), stop());
        },
        get topicCount() {
          return bus.topicCount;
        },
        close: () => bus.close(),
      };
    },
  };
  return outage;
}
