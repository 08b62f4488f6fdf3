import type { ChatRoom } from '@streampod/protocol';
import { registerUser, testClient, type TestClient } from '../presence/test-users.fixture.js';
import type { ChatRoomWatch } from './chat-room-watch.js';
import type { ChatRoomView } from './chat-room.js';
import type { ChatRoomSnapshot } from './types.js';

// Helpers shared by the chat tests (`.fixture.ts`: test helpers, kept out of the build).

export interface ChatPair extends AsyncDisposable {
  readonly alice: { id: number; token: string };
  readonly bob: { id: number; token: string };
  /** Alice's client. */
  readonly a: TestClient;
  /** Bob's client. */
  readonly b: TestClient;
  /** A room of the two, made by Alice. */
  readonly room: ChatRoom;
}

/** Two users with a client each and a room they share. */
export async function chatPair(url: string): Promise<ChatPair> {
  const alice = await registerUser(url, 'alice');
  const bob = await registerUser(url, 'bob');
  const a = testClient(url, alice.token);
  const b = testClient(url, bob.token);
  const room = await a.chat.createRoom({ name: 'general', memberIds: [bob.id] });
  return {
    alice,
    bob,
    a,
    b,
    room,
    [Symbol.asyncDispose]: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/** Resolves with the snapshot of a view (or watch) once `test` holds for it. */
export function untilSnapshot(
  source: ChatRoomView | ChatRoomWatch,
  test: (snapshot: ChatRoomSnapshot) => boolean,
): Promise<ChatRoomSnapshot> {
  const subscribe = 'onChange' in source ? source.onChange : source.subscribe;
  return new Promise((resolve) => {
    let done = false;
    const check = () => {
      const snapshot = source.getSnapshot();
      if (done || !test(snapshot)) return;
      done = true;
      stop();
      resolve(snapshot);
    };
    const stop = subscribe(check);
    check();
  });
}

/** The contents of a snapshot's messages, in order. */
export const contents = (snapshot: ChatRoomSnapshot) => snapshot.messages.map((m) => m.content);
