import {
  MemoryFanoutBackend,
  MemoryFanoutBus,
  createLogger,
  type FanoutBus,
  type OutgoingEvent,
} from '@streampod/framework';
import { Recorder } from '@streampod/framework/testing';
import type { PresenceBatch } from '@streampod/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { LastSeenStore } from './last-seen.js';
import type { Membership } from './membership.js';
import { MemoryPresenceStore } from './memory-presence-store.js';
import { PresenceManager } from './presence-manager.js';
import type { PresenceSession } from './presence-watchers.js';
import type { PresenceStore } from './presence-store.js';

const log = createLogger('silent');
const noLastSeen: LastSeenStore = { get: () => Promise.resolve(new Map()), save: () => Promise.resolve() };

/**
 * What a `subscribeToPresence` stream by `ownerId` of `userIds` is sent, as `snapshot:`/`change:`
 * lines of status/devices, and its snapshots whole; on `on`, a connection of that owner (one of
 * its own by default).
 */
function watcher(ownerId: number, userIds: readonly number[], on: object = { owner: { id: ownerId } }) {
  const lines = new Recorder<string>();
  const snapshots: PresenceBatch[] = [];
  const line = (kind: string, batch: PresenceBatch) =>
    lines.push(`${kind}:${batch.updates.map((u) => `${u.userId}=${u.status}/${u.devices}`).join(',')}`);
  const closers: (() => void)[] = [];
  const session = {
    input: { userIds },
    connection: on,
    sendStreamMessage: (batch: PresenceBatch) => (snapshots.push(batch), line('snapshot', batch)),
    send: (event: OutgoingEvent<PresenceBatch>) => line('change', event.value),
    onClosed: (callback: (arg?: unknown) => void, arg?: unknown) => void closers.push(() => callback(arg)),
    fail: (error: { code: string }) => {
      lines.push(`failed:${error.code}`);
      for (const close of closers.splice(0)) close();
    },
  } as unknown as PresenceSession;
  /** The client stops the stream. */
  const stop = () => closers.splice(0).forEach((close) => close());
  return { session, lines, snapshots, stop };
}

const connection = (userId: number, id: string) =>
  ({ id, user: { id: userId, username: `u${userId}` }, owner: { id: userId } }) as unknown as Parameters<
    PresenceManager['connectionOpened']
  >[0];

/** Publishes a store change as another node does: on the user's topic, through a bus of its own. */
function otherNode(backend: MemoryFanoutBackend) {
  const bus = new MemoryFanoutBus(backend);
  return async (change: Promise<{ after: { userId: number }; version: number }>) => {
    const { after, version } = await change;
    bus.publish(`presence:${after.userId}`, { presence: after, version });
  };
}

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
  it("a user's watchers on a node start from what the node has of them: one store read, and no change missed", async () => {
    const { backend, store, here } = nodeA(5);
    const reads: number[][] = [];
    const get = store.get.bind(store);
    store.get = (ids) => (reads.push([...ids]), get(ids));
    const first = watcher(1, [7]);
    await here.watch(first.session);
    // Another node changes user 7; its note is still on the way here…
    const change = await store.setDevice({ nodeId: 'b.0', userId: 7, deviceId: 'd1', idle: false });
    // …when more watchers of 7 come: they get what the first one has, and the store is read for 8 alone.
    const second = watcher(2, [7]);
    await here.watch(second.session);
    const third = watcher(3, [8, 7]);
    await here.watch(third.session);
    expect(reads).toEqual([[7], [8]]);
    new MemoryFanoutBus(backend).publish('presence:7', { presence: change.after, version: change.version });
    await third.lines.until((all) => all.length === 2);
    expect(first.lines.entries).toEqual(['snapshot:7=offline/0', 'change:7=online/1']);
    expect(second.lines.entries).toEqual(['snapshot:7=offline/0', 'change:7=online/1']);
    expect(third.lines.entries).toEqual(['snapshot:8=offline/0,7=offline/0', 'change:7=online/1']);
    await here.close();
  });

  it("a later watcher's snapshot is what the first was sent, whole: status, devices, last seen (a Date), no more", async () => {
    const seen = new Date('2026-12-01T10:00:00.000Z');
    const here = new PresenceManager({
      store: new MemoryPresenceStore(),
      bus: new MemoryFanoutBus(new MemoryFanoutBackend()),
      lastSeen: { get: (ids) => Promise.resolve(new Map(ids.map((id) => [id, seen]))), save: () => Promise.resolve() },
      log,
      nodeId: 'a',
    });
    const first = watcher(1, [7]);
    await here.watch(first.session);
    // The second starts from what the node kept of the first's read, not from the store.
    const second = watcher(2, [7]);
    await here.watch(second.session);
    const whole = { snapshot: true, updates: [{ userId: 7, status: 'offline', lastSeen: seen, devices: 0 }] };
    expect(first.snapshots).toStrictEqual([whole]);
    expect(second.snapshots).toStrictEqual([whole]);
    await here.close();
  });

  it('watches that come while a user is first read share that read, and start from a change heard meanwhile', async () => {
    const { backend, store, here } = nodeA(5);
    let reads = 0;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const get = store.get.bind(store);
    // The store answers as it stood when asked, after the test lets it go.
    store.get = async (ids) => {
      reads++;
      const answer = await get(ids);
      await held;
      return answer;
    };
    const first = watcher(1, [7]);
    const second = watcher(2, [7]);
    const watching = [here.watch(first.session), here.watch(second.session)];
    await vi.waitFor(() => expect(reads).toBe(1));
    // User 7 comes online on another node while the read (which has them offline) is on its way.
    const change = await store.setDevice({ nodeId: 'b.0', userId: 7, deviceId: 'd1', idle: false });
    new MemoryFanoutBus(backend).publish('presence:7', { presence: change.after, version: change.version });
    release();
    await Promise.all(watching);
    // A later change shows that nothing else was queued for them.
    const next = await store.setManualStatus(7, 'busy');
    new MemoryFanoutBus(backend).publish('presence:7', { presence: next.after, version: next.version });
    await second.lines.until((all) => all.length === 2);
    expect(reads).toBe(1);
    expect(first.lines.entries).toEqual(['snapshot:7=online/1', 'change:7=busy/1']);
    expect(second.lines.entries).toEqual(['snapshot:7=online/1', 'change:7=busy/1']);
    await here.close();
  });

  it('a watch that opens within a batching window starts from the change heard in it, and is told only what differs', async () => {
    // The window is the test's to end: every step below falls in one, however slow the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { backend, store, here } = nodeA(50);
      const publish = otherNode(backend);
      await publish(store.setDevice({ nodeId: 'b.0', userId: 7, deviceId: 'd1', idle: false }));
      await publish(store.setDevice({ nodeId: 'b.0', userId: 8, deviceId: 'd2', idle: false }));
      const before = watcher(1, [7, 8]);
      await here.watch(before.session);
      // Within one window: 7 goes offline and, after the late watch opened, comes back; 8 goes offline.
      await publish(store.removeDevice({ nodeId: 'b.0', userId: 7, deviceId: 'd1', at: new Date() }));
      await publish(store.removeDevice({ nodeId: 'b.0', userId: 8, deviceId: 'd2', at: new Date() }));
      const late = watcher(2, [7, 8]);
      await here.watch(late.session);
      await publish(store.setDevice({ nodeId: 'b.0', userId: 7, deviceId: 'd3', idle: false }));
      expect(here.heldUserCount).toBe(2);
      vi.advanceTimersByTime(50);
      // The first watcher never saw 7 go: nothing of 7. The late one saw it go in its snapshot: 7 is back.
      expect(before.lines.entries).toEqual(['snapshot:7=online/1,8=online/1', 'change:8=offline/0']);
      expect(late.lines.entries).toEqual(['snapshot:7=offline/0,8=offline/0', 'change:7=online/1']);
      expect(here.heldUserCount).toBe(0);
      await here.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("a user's read that lost its watch while on its way is not what a later watch starts from", async () => {
    const { store, here } = nodeA(5);
    const reads: { ids: number[]; release: () => void; fail: () => void }[] = [];
    const get = store.get.bind(store);
    // Each read answers as the store stood when asked, once the test lets it go (or fails it).
    store.get = async (ids) => {
      const answer = await get(ids);
      await new Promise<void>((resolve, reject) =>
        reads.push({ ids: [...ids], release: resolve, fail: () => reject(new Error('store unreachable')) }),
      );
      return answer;
    };
    const ofNine = here.watch(watcher(1, [9]).session);
    await vi.waitFor(() => expect(reads).toHaveLength(1));
    // This watch shares the read of 9 and reads 7 itself.
    const ofBoth = here.watch(watcher(1, [9, 7]).session);
    await vi.waitFor(() => expect(reads).toHaveLength(2));
    expect(reads.map((r) => r.ids)).toEqual([[9], [7]]);
    // The read of 9 fails: both watches end, and 7 is watched by nobody while its read is still out.
    reads[0]!.fail();
    await expect(ofNine).rejects.toThrow();
    await expect(ofBoth).rejects.toThrow();
    expect(here.watchedUserCount).toBe(0);
    // 7 comes online; a new watch of 7 reads again, and starts from that.
    await store.setDevice({ nodeId: 'b.0', userId: 7, deviceId: 'd1', idle: false });
    const fresh = watcher(2, [7]);
    const watching = here.watch(fresh.session);
    await vi.waitFor(() => expect(reads).toHaveLength(3));
    reads[2]!.release();
    await watching;
    // The old read (7 offline) lands late: it is no longer anyone's.
    reads[1]!.release();
    // Every promise callback pending runs before the next turn of the event loop: the late read has landed.
    await new Promise((resolve) => setImmediate(resolve));
    expect(here.heldUserCount).toBe(0);
    const later = watcher(3, [7]);
    await here.watch(later.session);
    expect(reads).toHaveLength(3);
    expect(fresh.lines.entries).toEqual(['snapshot:7=online/1']);
    expect(later.lines.entries).toEqual(['snapshot:7=online/1']);
    fresh.stop();
    later.stop();
    expect(here.watchedUserCount).toBe(0);
    expect(here.heldUserCount).toBe(0);
    await here.close();
  });

  it('offline and online again within one batching window reach a watcher as nothing at all', async () => {
    const { backend, store, here } = nodeA(30);
    const publish = otherNode(backend);
    await publish(store.setDevice({ nodeId: 'old.0', userId: 7, deviceId: 'd1', idle: false }));
    const seen = watcher(1, [7, 8]);
    await here.watch(seen.session);
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
    const ids = [...Array.from({ length: 40 }, (_, i) => i + 1), 30, 1];
    const seen = watcher(100, ids);
    await here.watch(seen.session);
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
    const seen = watcher(1, [7, 8]);
    await manager.watch(seen.session);
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
    const ofTwo = watcher(1, [2]);
    const ofThree = watcher(1, [3]);
    await here.watch(ofTwo.session);
    await here.watch(ofThree.session);
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

  it('finds a watch by its owner when they leave a room, whether its connection became a device before it, after it, or no longer is one', async () => {
    // Pairs of owner and watched user that share a room.
    const shared = new Set(['1:2', '4:5', '6:7']);
    const here = sharing({
      sharedWith: (viewer, ids) => Promise.resolve(new Set(ids.filter((id) => shared.has(`${viewer}:${id}`)))),
    });
    const before = connection(1, 'c1');
    await here.connectionOpened(before);
    const onDevice = watcher(1, [2], before);
    await here.watch(onDevice.session);
    const gone = connection(4, 'c4');
    await here.connectionOpened(gone);
    const outlived = watcher(4, [5], gone);
    await here.watch(outlived.session);
    // The device goes while its connection lives on (its token expired; its streams end soon after).
    await here.connectionClosed(gone);
    const after = connection(6, 'c6');
    const beforeDevice = watcher(6, [7], after);
    await here.watch(beforeDevice.session);
    await here.connectionOpened(after);

    for (const [owner, watched, { lines }] of [
      [1, 2, onDevice],
      [4, 5, outlived],
      [6, 7, beforeDevice],
    ] as const) {
      shared.delete(`${owner}:${watched}`);
      here.accessChanged([owner]);
      await lines.until((all) => all.includes('failed:FORBIDDEN'));
    }
    expect(here.watchedUserCount).toBe(0);
    // A watch that ended is no longer found: nothing more is sent to it.
    const heard = here.accessChanges;
    here.accessChanged([1, 4, 6]);
    await expect.poll(() => here.accessChanges).toBe(heard + 1);
    for (const { lines } of [onDevice, outlived, beforeDevice]) expect(lines.entries.at(-1)).toBe('failed:FORBIDDEN');
    expect(onDevice.lines.entries.filter((l) => l.startsWith('failed:'))).toHaveLength(1);
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
    const late = watcher(1, [2]);
    await expect(here.watch(late.session, checkedAt)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(late.lines.entries).toEqual([]);
    expect(here.watchedUserCount).toBe(0);
    // Nothing heard since its check: a watch goes ahead without asking again.
    sharingAll = true;
    const fresh = watcher(1, [2]);
    await here.watch(fresh.session, here.accessChanges);
    expect(fresh.lines.entries).toEqual(['snapshot:2=offline/0']);
    await here.close();
  });
});
