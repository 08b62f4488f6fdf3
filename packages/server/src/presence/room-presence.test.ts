import { createLogger, MemoryFanoutBus } from '@streampod/framework';
import { Recorder } from '@streampod/framework/testing';
import type { RoomPresenceBatch, UserPresence } from '@streampod/protocol';
import { describe, expect, it } from 'vitest';
import type { VersionedPresence } from './presence-store.js';
import { RoomPresenceService } from './room-presence.js';

const online = (userId: number, status: UserPresence['status'] = 'online'): UserPresence => ({
  userId,
  status,
  lastSeen: null,
  devices: 1,
});

describe('RoomPresenceService', () => {
  it('keeps a newcomer’s change heard while their presence is being read', async () => {
    const bus = new MemoryFanoutBus();
    const members = new Set([1]);
    const store = new Map<number, VersionedPresence>([[1, { presence: online(1), version: 1 }]]);
    // Reads of the newcomer wait until the test lets them go, as a slow store would.
    let release: (() => void) | undefined;
    const service = new RoomPresenceService({
      bus,
      log: createLogger('silent'),
      batchMs: 5,
      members: {
        membersOf: () => Promise.resolve([...members]),
        membersAmong: (_roomId, ids) => Promise.resolve(new Set(ids.filter((id) => members.has(id)))),
        roomIdsOf: () => Promise.resolve([7]),
      },
      read: async (ids) => {
        const snapshot = new Map(ids.flatMap((id) => (store.has(id) ? [[id, store.get(id)!] as const] : [])));
        if (ids.includes(2)) await new Promise<void>((resolve) => (release = resolve));
        return snapshot;
      },
    });
    const batches = new Recorder<RoomPresenceBatch>();
    await service.watch(
      {
        // The service sends each batch as an event, serialized once for every watcher.
        send: (event: { value: RoomPresenceBatch }) => batches.push(event.value),
        onClosed: () => undefined,
        fail: () => undefined,
        input: { roomId: 7 },
        connection: { owner: { id: 1 } },
      } as unknown as Parameters<RoomPresenceService['watch']>[0],
      1,
    );

    members.add(2);
    store.set(2, { presence: online(2), version: 1 });
    service.membersChanged(7, { joined: [2] });
    await expect.poll(() => release).toBeDefined();
    // Bob goes busy after his presence was read and before the re-check has him as a member.
    await service.changed({ changed: true, after: online(2, 'busy'), version: 2 } as Parameters<
      RoomPresenceService['changed']
    >[0]);
    release!();
    await batches.until((all) => all.some((b) => b.updates.some((u) => u.userId === 2)));
    const latest = batches.entries
      .flatMap((b) => b.updates)
      .filter((u) => u.userId === 2)
      .at(-1);
    expect(latest?.status).toBe('busy');
    service.close();
  });
});
