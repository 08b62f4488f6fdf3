import {
  MemoryFanoutBackend,
  MemoryFanoutBus,
  createLogger,
  type FanoutBus,
  type OutgoingEvent,
  type AppContext,
  type StreamSession,
} from '@streampod/framework';
import { Recorder } from '@streampod/framework/testing';
import type { PresenceBatch } from '@streampod/protocol';
import { describe, expect, it } from 'vitest';
import type { LastSeenStore } from './last-seen.js';
import type { Membership } from './membership.js';
import { MemoryPresenceStore } from './memory-presence-store.js';
import { PresenceManager } from './presence-manager.js';
import type { PresenceStore } from './presence-store.js';

const log = createLogger('silent');
const noLastSeen: LastSeenStore = { get: () => Promise.resolve(new Map()), save: () => Promise.resolve() };

/** What one `subscribeToPresence` stream is sent, as `snapshot:`/`change:` lines of status/devices. */
function watcher() {
  const lines = new Recorder<string>();
  const line = (kind: string, batch: PresenceBatch) =>
    lines.push(`${kind}:${batch.updates.map((u) => `${u.userId}=${u.status}/${u.devices}`).join(',')}`);
  const closers: (() => void)[] = [];
  const session = {
    sendStreamMessage: (batch: PresenceBatch) => line('snapshot', batch),
    send: (event: OutgoingEvent<PresenceBatch>) => line('change', event.value),
    onClosed: (callback: (arg?: unknown) => void, arg?: unknown) => void closers.push(() => callback(arg)),
    fail: (error: { code: string }) => {
      lines.push(`failed:${error.code}`);
      for (const close of closers.splice(0)) close();
    },
  } as unknown as StreamSession<AppContext, PresenceBatch, unknown>;
  /** The client stops the stream. */
  const stop = () => closers.splice(0).forEach((close) => close());
  return { session, lines, stop };
}

const connection = (userId: number, id: string) =>
  ({ id, user: { id: userId, username: `u${userId}` } }) as unknown as Parameters<
    PresenceManager['connectionOpened']
  >[0];

/** Node `a`'s manager on a memory store and bus, and the backend other nodes publish through. */
function nodeA(batchMs: number) {
  const backend = new MemoryFanoutBackend();
  const store = new MemoryPresenceStore();
  const here = new PresenceManager({
    store,
    bus: new MemoryFanoutBus(backend),
    lastSeen: noLastSeen,
    log,
    nodeId: 'a',
    batchMs,
  });
  return { backend, store, here };
}

/** A manager on its own memory store and bus, with rooms shared as `membership` says. */
function sharing(membership: Membership) {
  return new PresenceManager({
    store: new MemoryPresenceStore(),
    bus: new MemoryFanoutBus(new MemoryFanoutBackend()),
    lastSeen: noLastSeen,
    log,
    nodeId: 'a',
    membership,
  });
}

describe('PresenceManager', () => {
  it("one watcher's snapshot never hides a change from the watchers already there", async () => {
    const { backend, store, here } = nodeA(5);
    const first = watcher();
    await here.watch(first.session, { ownerId: 1, userIds: [7] });
    // Another node changes user 7; its note is still on the way here…
    const change = await store.setDevice({ nodeId: 'b.0', userId: 7, deviceId: 'd1', idle: false });
    // …when a second watcher's snapshot already reads that version.
    const second = watcher();
    await here.watch(second.session, { ownerId: 1, userIds: [7] });
    new MemoryFanoutBus(backend).publish('presence:7', { presence: change.after, version: change.version });
    await first.lines.until((all) => all.includes('change:7=online/1'));
    expect(first.lines.entries).toEqual(['snapshot:7=offline/0', 'change:7=online/1']);
    expect(second.lines.entries).toEqual(['snapshot:7=online/1']);
    await here.close();
  });

  it('offline and online again within one batching window reach a watcher as nothing at all', async () => {
    const { backend, store, here } = nodeA(30);
    const elsewhere = new MemoryFanoutBus(backend);
    const publish = async (change: Promise<{ after: { userId: number }; version: number }>) => {
      const { after, version } = await change;
      elsewhere.publish(`presence:${after.userId}`, { presence: after, version });
    };
    await publish(store.setDevice({ nodeId: 'old.0', userId: 7, deviceId: 'd1', idle: false }));
    const seen = watcher();
    await here.watch(seen.session, { ownerId: 1, userIds: [7, 8] });
    // The user's device moves from a stopping node to another one…
    await publish(store.removeDevice({ nodeId: 'old.0', userId: 7, deviceId: 'd1', at: new Date() }));
    await publish(store.setDevice({ nodeId: 'new.0', userId: 7, deviceId: 'd2', idle: false }));
    // …and in the same window someone else comes online: the batch holds that alone.
    await publish(store.setDevice({ nodeId: 'new.0', userId: 8, deviceId: 'd3', idle: false }));
    await seen.lines.until((all) => all.length === 2);
    expect(seen.lines.entries).toEqual(['snapshot:7=online/1,8=offline/0', 'change:8=online/1']);
    await here.close();
  });

  it('a watch of many users, some asked for twice, gets each change once and none it had in its snapshot', async () => {
    const { backend, store, here } = nodeA(5);
    const elsewhere = new MemoryFanoutBus(backend);
    // User 35 comes online on another node, whose note is still on the way when the watch reads.
    const online = await store.setDevice({ nodeId: 'b.0', userId: 35, deviceId: 'd1', idle: false });
    const seen = watcher();
    const ids = [...Array.from({ length: 40 }, (_, i) => i + 1), 30, 1];
    await here.watch(seen.session, { ownerId: 100, userIds: ids });
    const snapshot = seen.lines.entries[0]!;
    expect(snapshot.split(',')).toHaveLength(40);
    expect(snapshot).toMatch(/^snapshot:1=offline\/0,.*,35=online\/1,.*,40=offline\/0$/);
    elsewhere.publish('presence:35', { presence: online.after, version: online.version });
    const next = await store.setDevice({ nodeId: 'b.0', userId: 30, deviceId: 'd2', idle: false });
    elsewhere.publish('presence:30', { presence: next.after, version: next.version });
    await seen.lines.until((all) => all.length >= 2);
    expect(seen.lines.entries.slice(1)).toEqual(['change:30=online/1']);
    await here.close();
  });

  it('a user who leaves while the store is away is offline for watchers once it is back, even if it forgot everything', async () => {
    let inner = new MemoryPresenceStore();
    let down = false;
    // The store as Redis without persistence: unreachable, then back empty.
    const store = new Proxy({} as PresenceStore, {
      get:
        (_t, key: keyof PresenceStore) =>
        (...args: unknown[]) =>
          down
            ? Promise.reject(new Error('store unreachable'))
            : (inner[key] as (...a: unknown[]) => Promise<unknown>).apply(inner, args),
    });
    const resyncs = new Set<(lostForMs: number) => void>();
    const memory = new MemoryFanoutBus();
    const bus: FanoutBus = {
      publish: (topic, value) => memory.publish(topic, value),
      subscribe: (topic, handler) => memory.subscribe(topic, handler),
      onResync: (listener) => (resyncs.add(listener), () => resyncs.delete(listener)),
      topicCount: 0,
      close: () => memory.close(),
    };
    const saved = new Recorder<string>();
    const lastSeen: LastSeenStore = {
      get: () => Promise.resolve(new Map()),
      save: (userId, at) => Promise.resolve(saved.push(`${userId}@${at.getTime()}`)),
    };
    const manager = new PresenceManager({
      store,
      bus,
      lastSeen,
      log,
      nodeId: 'a',
      batchMs: 5,
      leaseMs: 60,
      // User 1 shares a room with both: the resync checks the watch's access again.
      membership: { sharedWith: (_viewer, ids) => Promise.resolve(new Set(ids)) },
    });
    await manager.start();
    const seen = watcher();
    await manager.watch(seen.session, { ownerId: 1, userIds: [7, 8] });
    const seven = connection(7, 'c7');
    await manager.connectionOpened(seven);
    await manager.connectionOpened(connection(8, 'c8'));
    await seen.lines.until((all) => all.some((l) => l.includes('8=online/1')));

    down = true;
    const leftAt = Date.now();
    await manager.connectionClosed(seven).catch(() => undefined);
    inner = new MemoryPresenceStore();
    down = false;
    manager.resync();
    for (const listener of resyncs) listener(1_000);

    await seen.lines.until((all) => all.some((l) => l.startsWith('change:') && l.includes('7=offline/0')));
    await saved.until((all) => all.length === 1);
    expect(Number(saved.entries[0]!.split('@')[1])).toBeGreaterThanOrEqual(leftAt);
    // User 8, still connected here, was announced again and never looked offline.
    expect(seen.lines.entries.filter((l) => l.startsWith('change:') && l.includes('8=offline'))).toEqual([]);
    expect((await manager.getPresence([7, 8])).map((p) => p.status)).toEqual(['offline', 'online']);
    await manager.close();
  });

  it('of two watches by one user, a departure ends the one it no longer allows and leaves the other', async () => {
    const shared = new Set([2, 3]);
    const here = sharing({
      sharedWith: (_viewer, ids) => Promise.resolve(new Set(ids.filter((id) => shared.has(id)))),
    });
    const ofTwo = watcher();
    const ofThree = watcher();
    await here.watch(ofTwo.session, { ownerId: 1, userIds: [2] });
    await here.watch(ofThree.session, { ownerId: 1, userIds: [3] });
    expect(here.watchedUserCount).toBe(2);
    // User 1 leaves the room they shared with 2.
    shared.delete(2);
    here.accessChanged([1]);
    await ofTwo.lines.until((all) => all.includes('failed:FORBIDDEN'));
    expect(here.watchedUserCount).toBe(1);
    expect(ofThree.lines.entries).toEqual(['snapshot:3=offline/0']);
    ofThree.stop();
    expect(here.watchedUserCount).toBe(0);
    await here.close();
  });

  it('checks a watch again when a departure came between the caller’s access check and the watch', async () => {
    let sharingAll = true;
    const here = sharing({ sharedWith: (_viewer, ids) => Promise.resolve(new Set(sharingAll ? ids : [])) });
    // The endpoint reads the counter, checks access (user 1 shares a room with 2)…
    const checkedAt = here.accessChanges;
    // …and before the watch registers, user 2 leaves the only room they shared.
    sharingAll = false;
    here.accessChanged([2]);
    await expect.poll(() => here.accessChanges).toBe(checkedAt + 1);
    const late = watcher();
    await expect(here.watch(late.session, { ownerId: 1, userIds: [2], checkedAt })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(late.lines.entries).toEqual([]);
    expect(here.watchedUserCount).toBe(0);
    // Nothing heard since its check: a watch goes ahead without asking again.
    sharingAll = true;
    const fresh = watcher();
    await here.watch(fresh.session, { ownerId: 1, userIds: [2], checkedAt: here.accessChanges });
    expect(fresh.lines.entries).toEqual(['snapshot:2=offline/0']);
    await here.close();
  });
});
