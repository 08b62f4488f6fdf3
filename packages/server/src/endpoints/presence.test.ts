import {
  FreezableProxy,
  RawWsClient,
  Recorder,
  failureOf,
  stockHttpClient,
  stockWsClient,
} from '@streampod/framework/testing';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UserPresence } from '@streampod/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryPresenceStore } from '../presence/memory-presence-store.js';
import { openDatabase, type Database } from '../db/index.js';
import { createTestPostgres } from '../testing/postgres.js';
import { connectDevice, everyoneShares, registerUser, watchPresence } from '../testing/presence-helpers.js';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';

let database: Database;
let server: ChatTestServer;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory' });
  server = await startChatTestServer({
    database,
    membership: everyoneShares,
    presenceBatchMs: 20,
    heartbeatIntervalMs: 20,
    presenceTimeoutMs: 150,
  });
});
afterAll(async () => {
  await server.close();
  await database.close();
});

const failure = failureOf;

describe('devices roll up into one user', () => {
  it('two devices then one closing keeps the user online with devices 1; the last makes them offline', async () => {
    const watcher = await registerUser(server, 'watcher');
    const bob = await registerUser(server, 'bob');
    await using w = await connectDevice(server, watcher.token);
    const seen = watchPresence(w, [bob.id]);
    expect(await seen.until(bob.id, () => true)).toEqual({
      userId: bob.id,
      status: 'offline',
      lastSeen: null,
      devices: 0,
    });
    const phone = await connectDevice(server, bob.token);
    const laptop = await connectDevice(server, bob.token);
    await seen.until(bob.id, (p) => p.devices === 2);
    await laptop.close();
    expect(await seen.until(bob.id, (p) => p.devices === 1)).toMatchObject({ status: 'online', devices: 1 });
    const before = Date.now();
    await phone.close();
    const offline = await seen.until(bob.id, (p) => p.status === 'offline');
    expect(offline.devices).toBe(0);
    expect(offline.lastSeen?.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(seen.batches.entries[0]?.snapshot).toBe(true);
    expect(seen.batches.entries.slice(1).every((b) => !b.snapshot)).toBe(true);
  });

  it('a socket that dies without a close frame goes offline within the heartbeat timeout', async () => {
    const watcher = await registerUser(server, 'watcher');
    const carol = await registerUser(server, 'carol');
    await using w = await connectDevice(server, watcher.token);
    const seen = watchPresence(w, [carol.id]);
    await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
    await using raw = await RawWsClient.connect(`ws://127.0.0.1:${proxy.port}/trpc`, carol.token);
    raw.send({ id: 1, method: 'query', params: { path: 'users.me' } });
    await raw.frame(1);
    await seen.until(carol.id, (p) => p.status === 'online');
    proxy.freeze();
    const offline = await seen.until(carol.id, (p) => p.status === 'offline');
    expect(offline.lastSeen).toBeInstanceOf(Date);
  });

  it('an unauthenticated connection is never a user: no device, no presence', async () => {
    await using anonymous = stockWsClient(server.wsUrl);
    await failure(anonymous.query('users.me'));
    const devices = server.services.presence.deviceCount;
    await using garbage = stockWsClient(server.wsUrl, 'garbage');
    await failure(garbage.query('users.me'));
    expect(server.services.presence.deviceCount).toBe(devices);
  });
});

describe('away, busy and activity', () => {
  it('away by itself after the idle timeout although pongs keep coming; back online with a heartbeat', async () => {
    await using local = await startChatTestServer({
      database,
      membership: everyoneShares,
      idleAfterMs: 150,
      presenceBatchMs: 10,
      heartbeatIntervalMs: 20,
      presenceTimeoutMs: 1000,
    });
    const watcher = await registerUser(local, 'watcher');
    const dave = await registerUser(local, 'dave');
    await using w = await connectDevice(local, watcher.token);
    await using d = await connectDevice(local, dave.token);
    const seen = watchPresence(w, [dave.id]);
    await seen.until(dave.id, (p) => p.status === 'away');
    // Away while still connected: pings and pongs kept the connection, not the user, alive.
    expect(local.services.presence.deviceCount).toBeGreaterThanOrEqual(2);
    await d.mutation('presence.heartbeat');
    await seen.until(dave.id, (p) => p.status === 'online');
  });

  it('busy set by hand wins over an active device and an idle one, and ends when the user goes offline', async () => {
    const watcher = await registerUser(server, 'watcher');
    const erin = await registerUser(server, 'erin');
    await using w = await connectDevice(server, watcher.token);
    const seen = watchPresence(w, [erin.id]);
    const one = await connectDevice(server, erin.token);
    const two = await connectDevice(server, erin.token);
    expect(await one.mutation('presence.setStatus', { status: 'busy' })).toMatchObject({ status: 'busy', devices: 2 });
    await two.mutation('presence.heartbeat');
    expect(await two.query('presence.getPresence', { userIds: [erin.id] })).toEqual([
      { userId: erin.id, status: 'busy', lastSeen: null, devices: 2 },
    ]);
    await one.close();
    await two.close();
    await seen.until(erin.id, (p) => p.status === 'offline');
    await using again = await connectDevice(server, erin.token);
    expect(await seen.until(erin.id, (p) => p.devices === 1)).toMatchObject({ status: 'online' });
    expect(await again.mutation('presence.setStatus', { status: 'online' })).toMatchObject({ status: 'online' });
  });
});

describe('subscriptions', () => {
  it('ten rapid status changes reach a subscriber as one entry, the latest', async () => {
    await using local = await startChatTestServer({ database, membership: everyoneShares, presenceBatchMs: 300 });
    const watcher = await registerUser(local, 'watcher');
    const frank = await registerUser(local, 'frank');
    await using w = await connectDevice(local, watcher.token);
    await using f = await connectDevice(local, frank.token);
    const seen = watchPresence(w, [frank.id]);
    await seen.until(frank.id, (p) => p.status === 'online');
    const statuses = ['busy', 'away', 'online', 'busy', 'away', 'busy', 'online', 'away', 'online', 'busy'] as const;
    for (const status of statuses) await f.mutation('presence.setStatus', { status });
    await seen.batches.until((all) => all.length >= 2);
    const [snapshot, batch] = seen.batches.entries;
    expect(snapshot?.snapshot).toBe(true);
    expect(batch).toEqual({
      snapshot: false,
      updates: [{ userId: frank.id, status: 'busy', lastSeen: null, devices: 1 }],
    });
  });

  it('a subscriber learns nothing about users it did not ask for', async () => {
    const watcher = await registerUser(server, 'watcher');
    const gina = await registerUser(server, 'gina');
    const hank = await registerUser(server, 'hank');
    await using w = await connectDevice(server, watcher.token);
    const seen = watchPresence(w, [gina.id]);
    await seen.until(gina.id, () => true);
    await using h = await connectDevice(server, hank.token);
    await h.mutation('presence.setStatus', { status: 'busy' });
    await using _gina = await connectDevice(server, gina.token);
    await seen.until(gina.id, (p) => p.status === 'online');
    const ids = seen.batches.entries.flatMap((b) => b.updates.map((u) => u.userId));
    expect(new Set(ids)).toEqual(new Set([gina.id]));
  });

  it('a snapshot holds every requested user once; never-seen users are offline with no last seen', async () => {
    const watcher = await registerUser(server, 'watcher');
    await using w = await connectDevice(server, watcher.token);
    const seen = watchPresence(w, [watcher.id, 999_001, 999_001, 999_002]);
    await seen.batches.until((all) => all.length >= 1);
    expect(seen.batches.entries[0]).toEqual({
      snapshot: true,
      updates: [
        { userId: watcher.id, status: 'online', lastSeen: null, devices: 1 },
        { userId: 999_001, status: 'offline', lastSeen: null, devices: 0 },
        { userId: 999_002, status: 'offline', lastSeen: null, devices: 0 },
      ],
    });
  });
});

describe('who may watch whom', () => {
  it('a stranger is FORBIDDEN (no shared room); oneself is always allowed', async () => {
    await using local = await startChatTestServer({ database });
    const ivy = await registerUser(local, 'ivy');
    const jack = await registerUser(local, 'jack');
    await using ws = await connectDevice(local, ivy.token);
    const seen = watchPresence(ws, [ivy.id, jack.id]);
    await seen.errors.until((e) => e.length === 1);
    expect(seen.errors.entries).toEqual([`FORBIDDEN: userIds: you share no room with ${jack.id}`]);
    expect(await failure(ws.query('presence.getPresence', { userIds: [jack.id] }))).toEqual({
      code: 'FORBIDDEN',
      message: `userIds: you share no room with ${jack.id}`,
    });
    const self = watchPresence(ws, [ivy.id]);
    expect(await self.until(ivy.id, () => true)).toMatchObject({ status: 'online', devices: 1 });
  });

  it('more than 1,000 ids is BAD_REQUEST naming the field', async () => {
    const kim = await registerUser(server, 'kim');
    const ids = Array.from({ length: 1001 }, (_, i) => i + 1);
    expect(
      await failure(stockHttpClient(server.url, kim.token).query('presence.getPresence', { userIds: ids })),
    ).toEqual({
      code: 'BAD_REQUEST',
      message: 'userIds: at most 1000 ids',
    });
  });

  it('everything presence needs a token', async () => {
    expect(await failure(stockHttpClient(server.url).query('presence.getPresence', { userIds: [1] }))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});

describe('last seen survives a restart', () => {
  async function lastSeenAcrossRestart(open: () => Promise<Database>) {
    let userId: number;
    {
      const db = await open();
      const first = await startChatTestServer({ database: db });
      const user = await registerUser(first, 'leo');
      userId = user.id;
      const device = await connectDevice(first, user.token);
      // Still connected: the shutdown itself takes the user offline and saves last seen.
      await first.close();
      await device.close();
      await db.close();
    }
    const db = await open();
    await using second = await startChatTestServer({ database: db });
    // Read back through the API, as the user would.
    const self = stockHttpClient(second.url, await second.tokens.issue({ id: userId, username: 'leo' }));
    const [presence] = (await self.query('presence.getPresence', { userIds: [userId] })) as UserPresence[];
    expect(presence).toMatchObject({ userId, status: 'offline', devices: 0 });
    expect(presence?.lastSeen).toBeInstanceOf(Date);
    expect(Date.now() - presence!.lastSeen!.getTime()).toBeLessThan(60_000);
    await db.close();
  }

  it('on the embedded database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'streampod-presence-'));
    await lastSeenAcrossRestart(() => openDatabase({ dataDir: dir }));
  });

  it('on PostgreSQL', async () => {
    await using pg = await createTestPostgres();
    await lastSeenAcrossRestart(() => openDatabase({ url: pg.url }));
  });
});

describe('regressions', () => {
  /** A memory store whose reads wait for `release()` (or fail), to stretch the snapshot read. */
  function slowStore() {
    const store = new MemoryPresenceStore();
    let gate: Promise<void> = Promise.resolve();
    let open = () => {};
    let failNext = false;
    const reads = new Recorder<string>();
    const get = store.get.bind(store);
    store.get = async (ids) => {
      reads.push('read');
      if (failNext) {
        failNext = false;
        throw new Error('store unavailable');
      }
      await gate;
      return get(ids);
    };
    return {
      store,
      reads,
      hold: () => {
        gate = new Promise<void>((resolve) => (open = resolve));
      },
      release: () => open(),
      failNextRead: () => (failNext = true),
    };
  }

  it('never sends a change before the snapshot, even when the snapshot is slow to read', async () => {
    const slow = slowStore();
    await using local = await startChatTestServer({
      database,
      membership: everyoneShares,
      presenceStore: slow.store,
      presenceBatchMs: 5,
    });
    const early = await registerUser(local, 'early');
    const late = await registerUser(local, 'late');
    const mona = await registerUser(local, 'mona');
    await using e = await connectDevice(local, early.token);
    const other = watchPresence(e, [mona.id]);
    await other.batches.until((b) => b.length === 1);
    slow.hold();
    await using l = await connectDevice(local, late.token);
    // Mona is watched here already; `late` is not, so this watch reads the store.
    const seen = watchPresence(l, [mona.id, late.id]);
    await slow.reads.untilCount('read', 2);
    // Mona comes online while the late watcher's snapshot is still being read.
    await using _mona = await connectDevice(local, mona.token);
    await other.until(mona.id, (p) => p.status === 'online'); // a flush has run meanwhile
    slow.release();
    await seen.until(mona.id, (p) => p.status === 'online');
    expect(seen.batches.entries[0]?.snapshot).toBe(true);
  });

  it('a snapshot that fails to read leaves no watcher behind', async () => {
    const slow = slowStore();
    await using local = await startChatTestServer({ database, membership: everyoneShares, presenceStore: slow.store });
    const nina = await registerUser(local, 'nina');
    await using n = await connectDevice(local, nina.token);
    slow.failNextRead();
    const seen = watchPresence(n, [nina.id, 424_242]);
    await seen.errors.until((e) => e.length === 1);
    expect(seen.errors.entries).toEqual([
      'SERVICE_UNAVAILABLE: presence is unavailable for a moment (its store is unreachable): retry',
    ]);
    expect(local.services.presence.watchedUserCount).toBe(0);
    expect(local.services.presence.heldUserCount).toBe(0);
  });

  it('a connection whose token expired stops counting as a device', async () => {
    await using local = await startChatTestServer({
      database,
      membership: everyoneShares,
      idleAfterMs: 40,
      presenceBatchMs: 5,
    });
    const watcher = await registerUser(local, 'watcher');
    const omar = await registerUser(local, 'omar');
    await using w = await connectDevice(local, watcher.token);
    const seen = watchPresence(w, [omar.id]);
    const shortLived = await local.tokens.issue({ id: omar.id, username: 'omar' }, 2);
    await using _o = await connectDevice(local, shortLived);
    await seen.until(omar.id, (p) => p.status === 'online');
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 3_000);
      expect(await seen.until(omar.id, (p) => p.status === 'offline')).toMatchObject({ devices: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});
