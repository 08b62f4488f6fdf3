// @vitest-environment happy-dom
import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { describe, expect } from 'vitest';
import { defineComponent, h, nextTick, ref, type Component } from 'vue';
import type { StreampodClient } from '../client.js';
import { trackerOf, type PresenceTracker } from '../presence/presence-tracker.js';
import {
  connectDevice,
  everyoneShares,
  registerUser,
  untilPresence,
  untilRoomView,
} from '../presence/test-users.fixture.js';
import type { RoomPresenceView } from '../presence/watched-room.js';
import { createStreampod, provideStreampod, useStreampodClient } from './streampod-plugin.js';
import { mount } from './mount.fixture.js';
import { usePresence, usePresenceTracker } from './use-presence.js';

/** The status of the first of `userIds`, as a contact list would show it. */
function contact(userIds: () => readonly number[]): Component {
  return defineComponent({
    setup() {
      const { presences, isLoading, error } = usePresence(userIds);
      return () => {
        const first = userIds()[0];
        const presence = first === undefined ? undefined : presences.value[first];
        return h('span', isLoading.value ? 'loading' : (error.value?.message ?? presence?.status ?? 'unknown'));
      };
    },
  });
}

/** Resolves once the tracker has `userId` in `status` and Vue has rendered it. */
async function until(tracker: PresenceTracker, opts: { userIds: number[]; userId: number; status: string }) {
  await untilPresence(tracker, { ...opts, test: (p) => p.status === opts.status });
  await nextTick();
}

describe('usePresence (Vue)', () => {
  it("follows a contact's status, and re-watches when the ids change", async ({ database }) => {
    await using server = await startChatTestServer({ database, membership: everyoneShares, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    const carol = await registerUser(server.url, 'carol');
    await using a = await connectDevice(server.url, alice.token);
    const plugin = createStreampod(a);
    const tracker = trackerOf(a);
    const ids = ref<number[]>([bob.id]);
    const view = mount(
      contact(() => ids.value),
      (app) => app.use(plugin),
    );
    try {
      expect(view.text()).toBe('loading');
      await until(tracker, { userIds: [bob.id], userId: bob.id, status: 'offline' });
      expect(view.text()).toBe('offline');
      const phone = await connectDevice(server.url, bob.token);
      await until(tracker, { userIds: [bob.id], userId: bob.id, status: 'online' });
      expect(view.text()).toBe('online');
      await phone.close();
      await until(tracker, { userIds: [bob.id], userId: bob.id, status: 'offline' });
      expect(view.text()).toBe('offline');

      // The same ids in a new array change nothing; other ids re-watch.
      ids.value = [bob.id];
      await nextTick();
      expect(tracker.watch([bob.id]).getSnapshot().isLoading).toBe(false);
      expect(view.text()).toBe('offline');
      await using _carol = await connectDevice(server.url, carol.token);
      ids.value = [carol.id];
      await nextTick();
      expect(tracker.get(bob.id)).toBeUndefined();
      await until(tracker, { userIds: [carol.id], userId: carol.id, status: 'online' });
      expect(view.text()).toBe('online');
      expect(tracker.subscriptionCount).toBe(1);
    } finally {
      view[Symbol.dispose]();
    }
    await Promise.resolve(); // a hook lets go a microtask later (see PresenceTracker)
    expect(tracker.subscriptionCount).toBe(0);
  });

  it('works with provideStreampod in a parent setup, and shows FORBIDDEN when no room is shared', async ({
    database,
  }) => {
    await using server = await startChatTestServer({ database, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    await using a = await connectDevice(server.url, alice.token);
    let tracker: PresenceTracker | undefined;
    let client: StreampodClient | undefined;
    const Contact = contact(() => [bob.id]);
    const Parent = defineComponent({
      setup() {
        provideStreampod(a);
        tracker = usePresenceTracker();
        return () => h(Contact);
      },
    });
    const Probe = defineComponent({
      setup() {
        client = useStreampodClient<StreampodClient>();
        return () => h('i');
      },
    });
    using view = mount(defineComponent({ setup: () => () => [h(Parent), h(Probe)] }), (app) =>
      app.use(createStreampod(a)),
    );
    expect(client).toBe(a);
    const failed = new Promise<void>((resolve) => {
      const watch = tracker!.watch([bob.id]);
      const stop = watch.subscribe(() => {
        if (watch.getSnapshot().error === null) return;
        stop();
        resolve();
      });
    });
    await failed;
    await nextTick();
    expect(view.text()).toBe(`userIds: you share no room with ${bob.id}`);
  });

  it('shows who of a room is here, following a room id ref', async ({ database }) => {
    await using server = await startChatTestServer({ database, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    await using a = await connectDevice(server.url, alice.token);
    const first = await a.chat.createRoom({ name: 'one', memberIds: [bob.id] });
    const second = await a.chat.createRoom({ name: 'two', memberIds: [] });
    const tracker = trackerOf(a);
    const roomId = ref(first.id);
    const Header = defineComponent({
      setup() {
        const { userCount, memberCount, isLoading } = usePresence(() => ({ roomId: roomId.value }));
        return () => h('h1', isLoading.value ? 'loading' : `${userCount.value}/${memberCount.value} online`);
      },
    });
    using view = mount(Header, (app) => app.use(createStreampod(a)));
    const untilRoom = async (id: number, test: (v: RoomPresenceView) => boolean) => {
      await untilRoomView(tracker, id, test);
      await nextTick();
    };
    await untilRoom(first.id, (v) => !v.isLoading);
    expect(view.text()).toBe('1/2 online');
    await using _b = await connectDevice(server.url, bob.token);
    await untilRoom(first.id, (v) => v.userCount === 2);
    expect(view.text()).toBe('2/2 online');
    roomId.value = second.id;
    await nextTick();
    await untilRoom(second.id, (v) => !v.isLoading);
    expect(view.text()).toBe('1/1 online');
    expect(tracker.subscriptionCount).toBe(1);
  });
});
