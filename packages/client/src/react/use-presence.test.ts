// @vitest-environment happy-dom
import { Recorder } from '@streampod/framework/testing';
import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { act, createElement, type ReactElement } from 'react';
import { render } from './render.fixture.js';
import { describe, expect } from 'vitest';
import type { PresenceView } from '../presence/presence-view.js';
import type { RoomPresenceView } from '../presence/watched-room.js';
import { PresenceTracker, type PresenceSource } from '../presence/presence-tracker.js';
import {
  connectDevice,
  everyoneShares,
  registerUser,
  untilPresence,
  untilRoomView,
} from '../presence/test-users.fixture.js';
import { StreampodProvider, useStreampodClient } from './streampod-provider.js';
import { usePresence, usePresenceTracker } from './use-presence.js';

// Tells React this is a test, so `act` flushes renders and effects.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** One user's status as a contact list would show it; each render's view goes to `views`. */
function Status(props: { userIds: readonly number[]; userId: number; views?: PresenceView[] }): ReactElement {
  const view = usePresence(props.userIds);
  props.views?.push(view);
  const presence = view.presences[props.userId];
  const text = view.isLoading ? 'loading' : (view.error?.message ?? presence?.status ?? 'unknown');
  return createElement('span', null, text);
}

describe('usePresence (React)', () => {
  it("shows a contact's status as they come and go", async ({ database }) => {
    await using server = await startChatTestServer({ database, membership: everyoneShares, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    await using a = await connectDevice(server.url, alice.token);
    let tracker: PresenceTracker | undefined;
    function Contact(): ReactElement {
      tracker = usePresenceTracker();
      return createElement(Status, { userIds: [bob.id], userId: bob.id });
    }
    const app = await render(createElement(StreampodProvider, { client: a }, createElement(Contact)));
    const shows = async (status: string) => {
      // Inside `act`, so the re-render the change causes is flushed before we read the DOM.
      await act(() => untilPresence(tracker!, { userIds: [bob.id], userId: bob.id, test: (p) => p.status === status }));
      expect(app.text()).toBe(status);
    };
    try {
      expect(app.text()).toBe('loading');
      await shows('offline');
      const phone = await connectDevice(server.url, bob.token);
      await shows('online');
      await phone.close();
      await shows('offline');
      expect(tracker?.subscriptionCount).toBe(1);
    } finally {
      await app[Symbol.asyncDispose]();
    }
    expect(tracker?.subscriptionCount).toBe(0);
  });

  it('keeps one subscription and the same object across re-renders with fresh arrays of the same ids', async ({
    database,
  }) => {
    await using server = await startChatTestServer({ database, membership: everyoneShares, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    await using a = await connectDevice(server.url, alice.token);
    const opened = new Recorder<readonly number[]>();
    const source: PresenceSource = {
      presence: {
        subscribeToPresence: (input) => {
          opened.push(input.userIds);
          return a.presence.subscribeToPresence(input);
        },
        subscribeToRoom: (input) => a.presence.subscribeToRoom(input),
        getRoomPresence: (input) => a.presence.getRoomPresence(input),
      },
    };
    const tracker = new PresenceTracker(source);
    const first: PresenceView[] = [];
    const second: PresenceView[] = [];
    let sameClient = false;
    function Contacts(props: { round: number }): ReactElement {
      sameClient = useStreampodClient() === a;
      // Fresh array literals every render, in different orders: still one id set.
      return createElement(
        'div',
        null,
        createElement(Status, { userIds: [alice.id, bob.id], userId: bob.id, views: first }),
        createElement(Status, { userIds: [bob.id, alice.id, bob.id], userId: alice.id, views: second }),
        createElement('i', null, `round ${props.round}`),
      );
    }
    const tree = (round: number) =>
      createElement(StreampodProvider, { client: a, tracker }, createElement(Contacts, { round }));
    await using app = await render(tree(1));
    await act(() =>
      untilPresence(tracker, { userIds: [alice.id, bob.id], userId: alice.id, test: (p) => p.status === 'online' }),
    );
    expect(app.text()).toBe('offlineonlineround 1');
    expect(sameClient).toBe(true);

    const loaded = first.at(-1);
    await app.rerender(tree(2));
    await app.rerender(tree(3));
    expect(app.text()).toBe('offlineonlineround 3');
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(first.at(-1)).toBe(loaded);
    expect(first.at(-1)?.presences).toBe(loaded?.presences);
    expect(second.at(-1)).toBe(loaded);
    expect(tracker.subscriptionCount).toBe(1);
    expect(opened.entries).toEqual([[alice.id, bob.id]]);

    // A real change makes a new object for both, still on the one subscription.
    const phone = await connectDevice(server.url, bob.token);
    await act(() =>
      untilPresence(tracker, { userIds: [bob.id, alice.id], userId: bob.id, test: (p) => p.devices === 1 }),
    );
    expect(app.text()).toBe('onlineonlineround 3');
    expect(first.at(-1)).not.toBe(loaded);
    expect(first.at(-1)?.presences[alice.id]).toBe(loaded?.presences[alice.id]);
    expect(opened.entries).toHaveLength(1);
    await phone.close();
    await act(() =>
      untilPresence(tracker, { userIds: [bob.id, alice.id], userId: bob.id, test: (p) => p.devices === 0 }),
    );
  });

  it('shows who of a room is here; components watching the room share one subscription', async ({ database }) => {
    await using server = await startChatTestServer({ database, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    await using a = await connectDevice(server.url, alice.token);
    const room = await a.chat.createRoom({ name: 'team', memberIds: [bob.id] });
    const tracker = new PresenceTracker(a);
    function Header(): ReactElement {
      const { userCount, memberCount, isLoading } = usePresence({ roomId: room.id });
      return createElement('h1', null, isLoading ? 'loading' : `${userCount}/${memberCount} online`);
    }
    function Members(): ReactElement {
      const { presences } = usePresence(`room:${room.id}`);
      return createElement('ul', null, `bob ${presences[bob.id]?.status ?? '?'}`);
    }
    const tree = createElement(
      StreampodProvider,
      { client: a, tracker },
      createElement(Header),
      createElement(Members),
    );
    const app = await render(tree);
    const untilRoom = (test: (view: RoomPresenceView) => boolean) =>
      act(async () => void (await untilRoomView(tracker, room.id, test)));
    try {
      await untilRoom((v) => !v.isLoading);
      expect(app.text()).toBe('1/2 onlinebob offline');
      const phone = await connectDevice(server.url, bob.token);
      await untilRoom((v) => v.userCount === 2);
      expect(app.text()).toBe('2/2 onlinebob online');
      expect(tracker.subscriptionCount).toBe(1);
      await phone.close();
      await untilRoom((v) => v.userCount === 1);
      expect(app.text()).toBe('1/2 onlinebob offline');
    } finally {
      await app[Symbol.asyncDispose]();
    }
    expect(tracker.subscriptionCount).toBe(0);
  });
});
