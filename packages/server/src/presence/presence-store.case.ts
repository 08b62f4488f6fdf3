import { describe, expect, it } from 'vitest';
import type { PresenceStore } from './presence-store.js';

/**
 * The conformance suite every PresenceStore passes (memory now, Redis with scale-out):
 * run it with a factory that returns a fresh, empty store.
 */
export function presenceStoreCases(name: string, create: () => Promise<PresenceStore>) {
  describe(`PresenceStore: ${name}`, () => {
    const at = new Date('2026-05-01T10:00:00.000Z');

    it('rolls devices up into one user: online while any device lives, offline with lastSeen after the last', async () => {
      await using store = disposable(await create());
      const first = await store.setDevice({ userId: 1, deviceId: 'a', idle: false });
      expect(first).toMatchObject({ changed: true, before: { status: 'offline', devices: 0 } });
      expect(first.after).toEqual({ userId: 1, status: 'online', lastSeen: null, devices: 1 });
      expect((await store.setDevice({ userId: 1, deviceId: 'b', idle: false })).after.devices).toBe(2);
      expect((await store.removeDevice({ userId: 1, deviceId: 'a', at })).after).toEqual({
        userId: 1,
        status: 'online',
        lastSeen: null,
        devices: 1,
      });
      expect((await store.removeDevice({ userId: 1, deviceId: 'b', at })).after).toEqual({
        userId: 1,
        status: 'offline',
        lastSeen: at,
        devices: 0,
      });
      expect((await store.get([1, 2])).get(1)).toEqual({ userId: 1, status: 'offline', lastSeen: at, devices: 0 });
      expect((await store.get([1, 2])).has(2)).toBe(false);
    });

    it('reports no change when nothing visible changed', async () => {
      await using store = disposable(await create());
      await store.setDevice({ userId: 1, deviceId: 'a', idle: false });
      expect((await store.setDevice({ userId: 1, deviceId: 'a', idle: false })).changed).toBe(false);
      expect((await store.removeDevice({ userId: 1, deviceId: 'nope', at })).changed).toBe(false);
    });

    it('goes away when every device is idle, back online when one is active', async () => {
      await using store = disposable(await create());
      await store.setDevice({ userId: 1, deviceId: 'a', idle: false });
      await store.setDevice({ userId: 1, deviceId: 'b', idle: true });
      expect((await store.setDevice({ userId: 1, deviceId: 'a', idle: true })).after.status).toBe('away');
      expect((await store.setDevice({ userId: 1, deviceId: 'b', idle: false })).after.status).toBe('online');
    });

    it('keeps a status set by hand over activity, until cleared or the user goes offline', async () => {
      await using store = disposable(await create());
      await store.setDevice({ userId: 1, deviceId: 'a', idle: false });
      expect((await store.setManualStatus(1, 'busy')).after.status).toBe('busy');
      expect((await store.setDevice({ userId: 1, deviceId: 'a', idle: false })).after.status).toBe('busy');
      expect((await store.setManualStatus(1, null)).after.status).toBe('online');
      await store.setManualStatus(1, 'away');
      await store.removeDevice({ userId: 1, deviceId: 'a', at });
      expect((await store.setDevice({ userId: 1, deviceId: 'c', idle: false })).after.status).toBe('online');
    });

    it('ignores a status set by hand while offline', async () => {
      await using store = disposable(await create());
      const change = await store.setManualStatus(9, 'busy');
      expect(change.after.status).toBe('offline');
      expect((await store.setDevice({ userId: 9, deviceId: 'a', idle: false })).after.status).toBe('online');
    });
  });
}

function disposable(store: PresenceStore): PresenceStore & AsyncDisposable {
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}
