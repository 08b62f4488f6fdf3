import { describe, expect, it } from 'vitest';
import type { PresenceStore } from './presence-store.js';

/** The stores of `count` nodes sharing one backend, fresh for one test. */
export type PresenceStoreNodes = (count: number, opts?: { claimTimeoutMs?: number }) => Promise<PresenceStore[]>;

/**
 * The conformance suite every PresenceStore passes (memory, one Redis, a Redis Cluster):
 * run it with a factory that returns the stores of `count` nodes sharing one empty backend.
 */
export function presenceStoreCases(name: string, nodes: PresenceStoreNodes) {
  describe(`PresenceStore: ${name}`, () => {
    const at = new Date('2026-05-01T10:00:00.000Z');
    const dev = (userId: number, deviceId: string, nodeId = 'n1') => ({ nodeId, userId, deviceId });

    it('rolls devices up into one user: online while any device lives, offline with lastSeen after the last', async () => {
      const [store] = await nodes(1);
      const first = await store!.setDevice({ ...dev(1, 'a'), idle: false });
      expect(first).toMatchObject({ changed: true, before: { status: 'offline', devices: 0 } });
      expect(first.after).toEqual({ userId: 1, status: 'online', lastSeen: null, devices: 1 });
      expect((await store!.setDevice({ ...dev(1, 'b'), idle: false })).after.devices).toBe(2);
      expect((await store!.removeDevice({ ...dev(1, 'a'), at })).after).toEqual({
        userId: 1,
        status: 'online',
        lastSeen: null,
        devices: 1,
      });
      expect((await store!.removeDevice({ ...dev(1, 'b'), at })).after).toEqual({
        userId: 1,
        status: 'offline',
        lastSeen: at,
        devices: 0,
      });
      const got = await store!.get([1, 2]);
      expect(got.get(1)?.presence).toEqual({ userId: 1, status: 'offline', lastSeen: at, devices: 0 });
      expect(got.has(2)).toBe(false);
    });

    it('reports no change when nothing visible changed', async () => {
      const [store] = await nodes(1);
      await store!.setDevice({ ...dev(1, 'a'), idle: false });
      expect((await store!.setDevice({ ...dev(1, 'a'), idle: false })).changed).toBe(false);
      expect((await store!.removeDevice({ ...dev(1, 'nope'), at })).changed).toBe(false);
    });

    it('goes away when every device is idle, back online when one is active', async () => {
      const [store] = await nodes(1);
      await store!.setDevice({ ...dev(1, 'a'), idle: false });
      await store!.setDevice({ ...dev(1, 'b'), idle: true });
      expect((await store!.setDevice({ ...dev(1, 'a'), idle: true })).after.status).toBe('away');
      expect((await store!.setDevice({ ...dev(1, 'b'), idle: false })).after.status).toBe('online');
    });

    it('keeps a status set by hand over activity, until cleared or the user goes offline', async () => {
      const [store] = await nodes(1);
      await store!.setDevice({ ...dev(1, 'a'), idle: false });
      expect((await store!.setManualStatus(1, 'busy')).after.status).toBe('busy');
      expect((await store!.setDevice({ ...dev(1, 'a'), idle: false })).after.status).toBe('busy');
      expect((await store!.setManualStatus(1, null)).after.status).toBe('online');
      await store!.setManualStatus(1, 'away');
      await store!.removeDevice({ ...dev(1, 'a'), at });
      expect((await store!.setDevice({ ...dev(1, 'c'), idle: false })).after.status).toBe('online');
    });

    it('ignores a status set by hand while offline', async () => {
      const [store] = await nodes(1);
      const change = await store!.setManualStatus(9, 'busy');
      expect(change.after.status).toBe('offline');
      expect((await store!.setDevice({ ...dev(9, 'a'), idle: false })).after.status).toBe('online');
    });

    it('counts one user on two nodes as one user with two devices', async () => {
      const [a, b] = await nodes(2);
      await a!.setDevice({ ...dev(1, 'phone', 'na'), idle: false });
      const both = await b!.setDevice({ ...dev(1, 'laptop', 'nb'), idle: true });
      expect(both.after).toEqual({ userId: 1, status: 'online', lastSeen: null, devices: 2 });
      expect((await a!.get([1])).get(1)?.presence.devices).toBe(2);
      const one = await a!.removeDevice({ ...dev(1, 'phone', 'na'), at });
      expect(one.after).toEqual({ userId: 1, status: 'away', lastSeen: null, devices: 1 });
    });

    it('gives every operation on a user a higher version, whichever node makes it, also when they race', async () => {
      const [a, b] = await nodes(2);
      const ops = Array.from({ length: 40 }, (_v, i) =>
        (i % 2 === 0 ? a! : b!).setDevice({ ...dev(1, `d${i % 4}`, i % 2 === 0 ? 'na' : 'nb'), idle: i % 3 === 0 }),
      );
      const changes = await Promise.all(ops);
      const versions = changes.map((c) => c.version);
      expect(new Set(versions).size).toBe(versions.length);
      const latest = changes.reduce((x, y) => (y.version > x.version ? y : x));
      const stored = (await b!.get([1])).get(1)!;
      expect(stored.version).toBe(latest.version);
      expect(stored.presence).toEqual(latest.after);
      expect(stored.presence.devices).toBe(4);
    });

    it('expires a node whose lease ran out exactly once: its devices go, its users offline as of its last renewal', async () => {
      const [a, b, c] = await nodes(3);
      expect(await a!.renewLease('na', 150)).toBe(false); // first registration
      expect(await a!.renewLease('na', 150)).toBe(true);
      expect(await b!.renewLease('nb', 60_000)).toBe(false);
      await a!.setDevice({ ...dev(1, 'x', 'na'), idle: false });
      await a!.setDevice({ ...dev(2, 'y', 'na'), idle: false });
      await b!.setDevice({ ...dev(2, 'z', 'nb'), idle: false });
      const renewed = Date.now();
      // Nothing to expire while the lease runs.
      expect(await b!.expireNodes()).toEqual([]);
      // Both other nodes look until one of them claims it; the claim is never shared.
      const claims = [];
      const deadline = Date.now() + 5_000;
      while (claims.length === 0 && Date.now() < deadline) {
        claims.push(...(await Promise.all([b!.expireNodes(), c!.expireNodes()])).flat());
      }
      expect(claims.map((e) => e.nodeId)).toEqual(['na']);
      const [expiry] = claims;
      expect(Math.abs(expiry!.lastRenewedAt.getTime() - renewed)).toBeLessThan(1_000);
      const changed = expiry!.changes.filter((ch) => ch.changed).map((ch) => ch.after);
      expect(changed).toEqual(
        expect.arrayContaining([
          { userId: 1, status: 'offline', lastSeen: expiry!.lastRenewedAt, devices: 0 },
          { userId: 2, status: 'online', lastSeen: null, devices: 1 },
        ]),
      );
      expect(changed).toHaveLength(2);
      expect(await Promise.all([b!.expireNodes(), c!.expireNodes()])).toEqual([[], []]);
      // The expired node finds out when it renews: it must announce its devices again.
      expect(await a!.renewLease('na', 60_000)).toBe(false);
    });

    it('sweeps an expired node a second time, for a device its last command added after the first sweep', async () => {
      const [a, b] = await nodes(2, { claimTimeoutMs: 100 });
      await a!.renewLease('na', 50);
      await a!.setDevice({ ...dev(1, 'x', 'na'), idle: false });
      let first: Awaited<ReturnType<PresenceStore['expireNodes']>> = [];
      while (first.length === 0) first = await b!.expireNodes();
      expect(first[0]!.changes.filter((c) => c.changed).map((c) => c.after.status)).toEqual(['offline']);
      // The dead node's last command lands after the sweep: a device nobody would remove.
      await a!.setDevice({ ...dev(2, 'late', 'na'), idle: false });
      let second: Awaited<ReturnType<PresenceStore['expireNodes']>> = [];
      while (second.length === 0) second = await b!.expireNodes();
      expect(second.map((e) => e.nodeId)).toEqual(['na']);
      expect(second[0]!.changes.filter((c) => c.changed).map((c) => c.after)).toEqual([
        { userId: 2, status: 'offline', lastSeen: first[0]!.lastRenewedAt, devices: 0 },
      ]);
      // After the second sweep the node is forgotten.
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(await b!.expireNodes()).toEqual([]);
    });

    it('records when a user without devices was last seen, keeping the later time', async () => {
      const [store] = await nodes(1);
      const later = new Date(at.getTime() + 60_000);
      const first = await store!.markSeen({ userId: 4, at: later });
      expect(first).toMatchObject({ changed: true, after: { status: 'offline', lastSeen: later, devices: 0 } });
      expect((await store!.markSeen({ userId: 4, at })).changed).toBe(false);
      // A user with a device is not offline: nothing to record.
      await store!.setDevice({ ...dev(5, 'd'), idle: false });
      expect((await store!.markSeen({ userId: 5, at })).after).toMatchObject({ status: 'online', lastSeen: null });
    });

    it('makes a node hold exactly the devices it announces', async () => {
      const [a, b] = await nodes(2);
      await a!.setDevice({ ...dev(1, 'stale', 'na'), idle: false });
      await a!.setDevice({ ...dev(2, 'kept', 'na'), idle: false });
      await b!.setDevice({ ...dev(2, 'other', 'nb'), idle: false });
      const changes = await a!.syncNode({
        nodeId: 'na',
        devices: [
          { ...dev(2, 'kept', 'na'), idle: true },
          { ...dev(3, 'new', 'na'), idle: false },
        ],
        at,
      });
      const byUser = new Map(changes.map((c) => [c.after.userId, c.after]));
      expect(byUser.get(1)).toEqual({ userId: 1, status: 'offline', lastSeen: at, devices: 0 });
      expect(byUser.get(2)).toEqual({ userId: 2, status: 'online', lastSeen: null, devices: 2 });
      expect(byUser.get(3)).toEqual({ userId: 3, status: 'online', lastSeen: null, devices: 1 });
      // Announced again unchanged: nothing to tell anyone.
      const again = await a!.syncNode({
        nodeId: 'na',
        devices: [
          { ...dev(2, 'kept', 'na'), idle: true },
          { ...dev(3, 'new', 'na'), idle: false },
        ],
        at,
      });
      expect(again.filter((c) => c.changed)).toEqual([]);
    });

    it('releases a stopping node at once: its users offline, others untouched', async () => {
      const [a, b] = await nodes(2);
      await a!.renewLease('na', 60_000);
      await a!.setDevice({ ...dev(1, 'x', 'na'), idle: false });
      await a!.setDevice({ ...dev(2, 'y', 'na'), idle: false });
      await b!.setDevice({ ...dev(2, 'z', 'nb'), idle: false });
      const changes = await a!.releaseNode('na', at);
      expect(changes.map((c) => c.after).sort((x, y) => x.userId - y.userId)).toEqual([
        { userId: 1, status: 'offline', lastSeen: at, devices: 0 },
        { userId: 2, status: 'online', lastSeen: null, devices: 1 },
      ]);
      expect(await b!.expireNodes()).toEqual([]);
    });
  });
}
