import { MemoryFanoutBus, createLogger, type OutgoingEvent } from '@streampod/framework';
import { Recorder } from '@streampod/framework/testing';
import type { ChatStreamMessage } from '@streampod/protocol';
import { describe, expect, it } from 'vitest';
import { ChatHub, type ChatHubLoader, type ChatSession, type RoomEvent } from './chat-hub.js';
import type { RoomsSnapshot } from './message-repository.js';
import { decodePosition } from './stream-position.js';
import { busOutage } from '../testing/two-nodes.js';

/** A hub on a bus that can go down, and user 1's stream on it, open. */
async function hubThroughOutage(db: Rooms) {
  // The node hears nothing while `down`, then resyncs, as after Redis came back.
  const outage = busOutage();
  const hub = new ChatHub({ bus: outage.wrap(new MemoryFanoutBus()), log, loader: db.loader() });
  const s = stream();
  await hub.open(s.session, { userId: 1, from: undefined });
  return { outage, hub, s };
}

/**
 * The hub's interleavings, driven by hand: the database is a list of messages per room
 * whose snapshots the test releases when it chooses, so the races a busy cluster produces
 * now and then happen here every time. The bus is the real in-memory one.
 */
class Rooms {
  readonly messages = new Map<number, RoomEvent[]>();
  readonly memberships = new Map<number, { roomId: number; joinedSeq: number }[]>();
  /** Snapshots wait here until the test releases them (when `hold` is on). */
  readonly held: { roomIds: readonly number[]; resolve: (s: RoomsSnapshot) => void; at: Map<number, number> }[] = [];
  hold = false;

  add(roomId: number, seq: number): RoomEvent {
    const event: RoomEvent = {
      event: {
        type: 'message',
        conversationId: roomId,
        timestamp: new Date(0),
        messageId: roomId * 1000 + seq,
        senderId: 99,
        senderName: 'writer',
        content: `r${roomId}:${seq}`,
        messageType: 'text',
        clientMessageId: `c${roomId}-${seq}`,
      },
      seq,
    };
    this.messages.set(roomId, [...(this.messages.get(roomId) ?? []), event]);
    return event;
  }

  lastSeq(roomId: number): number {
    return this.messages.get(roomId)?.at(-1)?.seq ?? 0;
  }

  snapshotNow(roomIds: readonly number[], at = new Map<number, number>()): RoomsSnapshot {
    let maxId = 0;
    for (const events of this.messages.values())
      for (const e of events) if (e.event.type === 'message') maxId = Math.max(maxId, e.event.messageId);
    return {
      maxId,
      rooms: new Map(roomIds.map((id) => [id, { lastSeq: at.get(id) ?? this.lastSeq(id), busy: false }])),
    };
  }

  loader(): ChatHubLoader {
    return {
      membershipsOf: (userId) => Promise.resolve(this.memberships.get(userId) ?? []),
      stillMembers: (pairs) =>
        Promise.resolve(pairs.filter((p) => (this.memberships.get(p.userId) ?? []).some((m) => m.roomId === p.roomId))),
      recentMemberships: ({ userIds }) =>
        Promise.resolve(
          userIds.flatMap((userId) => (this.memberships.get(userId) ?? []).map((m) => ({ ...m, userId }))),
        ),
      snapshot: (roomIds) => {
        if (!this.hold) return Promise.resolve(this.snapshotNow(roomIds));
        // What the database holds right now is what this snapshot sees, whenever it is released.
        const at = new Map(roomIds.map((id) => [id, this.lastSeq(id)]));
        return new Promise((resolve) => this.held.push({ roomIds, resolve, at }));
      },
      catchUp: () => Promise.reject(new Error('not used here')),
      range: ({ roomId, afterSeq, uptoSeq, limit }) =>
        Promise.resolve(
          (this.messages.get(roomId) ?? [])
            .filter((e) => e.seq! > afterSeq && (uptoSeq === undefined || e.seq! <= uptoSeq))
            .slice(0, limit),
        ),
      typingTimedOut: () => Promise.resolve({ state: 'gone' }),
    };
  }

  release(index: number): void {
    const [held] = this.held.splice(index, 1);
    held!.resolve(this.snapshotNow(held!.roomIds, held!.at));
  }
}

/** A stream's end as the hub sees it: what it was sent, with which ids. */
function stream() {
  const received = new Recorder<{ content: string; id: string }>();
  const session = {
    resumeFrom: undefined,
    isOpen: true,
    send(event: OutgoingEvent<ChatStreamMessage>, id: string) {
      if (event.value.type === 'message') received.push({ content: event.value.content, id });
    },
    onClosed() {},
    close: () => Promise.resolve(),
  } as unknown as ChatSession;
  return { session, received, contents: () => received.entries.map((e) => e.content) };
}

const log = createLogger('silent');
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ChatHub interleavings', () => {
  it('two streams opening at once on a new room channel, their snapshots back in the other order: both miss nothing', async () => {
    const db = new Rooms();
    db.memberships.set(1, [{ roomId: 7, joinedSeq: 0 }]);
    db.memberships.set(2, [{ roomId: 7, joinedSeq: 0 }]);
    for (let seq = 1; seq <= 10; seq++) db.add(7, seq);
    const bus = new MemoryFanoutBus();
    const hub = new ChatHub({ bus, log, loader: db.loader() });
    db.hold = true;
    const first = stream();
    const second = stream();
    const opening1 = hub.open(first.session, { userId: 1, from: undefined });
    await settle();
    // Seq 11 commits after the first stream's snapshot and before the second's.
    hub.publish(7, db.add(7, 11));
    const opening2 = hub.open(second.session, { userId: 2, from: undefined });
    await settle();
    db.release(1); // the second stream (at 11) goes live first and starts the channel
    await opening2;
    db.release(0); // then the first (at 10), which the channel has passed
    await opening1;
    hub.publish(7, db.add(7, 12));
    await first.received.until((all) => all.length === 2);
    await second.received.until((all) => all.length === 1);
    expect(first.contents()).toEqual(['r7:11', 'r7:12']);
    expect(second.contents()).toEqual(['r7:12']);
    expect(decodePosition(first.received.entries.at(-1)!.id)?.rooms.get(7)).toBe(12);
  });

  it('a room joined while a stream is open starts where the user joined, not where the room is when the stream hears of it', async () => {
    const db = new Rooms();
    const bus = new MemoryFanoutBus();
    const hub = new ChatHub({ bus, log, loader: db.loader() });
    const s = stream();
    await hub.open(s.session, { userId: 1, from: undefined });
    db.hold = true;
    // The room is created with the user in it; its first message commits before the
    // stream's node has read where the room is.
    hub.publishJoin(1, { roomId: 5, joinedSeq: 0 });
    await settle();
    hub.publish(5, db.add(5, 1));
    db.release(0);
    await s.received.until((all) => all.length === 1);
    hub.publish(5, db.add(5, 2));
    await s.received.until((all) => all.length === 2);
    expect(s.contents()).toEqual(['r5:1', 'r5:2']);
  });

  it('folding a long position keeps a room joined meanwhile listed, so a resume still replays it', async () => {
    const db = new Rooms();
    const rooms = Array.from({ length: 6 }, (_v, i) => i + 1);
    db.memberships.set(
      1,
      rooms.map((roomId) => ({ roomId, joinedSeq: 0 })),
    );
    const bus = new MemoryFanoutBus();
    const hub = new ChatHub({ bus, log, loader: db.loader(), maxListedRooms: 3 });
    const s = stream();
    await hub.open(s.session, { userId: 1, from: undefined });
    db.hold = true;
    for (const roomId of rooms.slice(0, 4)) hub.publish(roomId, db.add(roomId, 1));
    await s.received.until((all) => all.length === 4);
    // Folding started (4 listed > 3): its snapshot is held. Meanwhile room 9 is joined.
    hub.publishJoin(1, { roomId: 9, joinedSeq: 0 });
    await settle();
    hub.publish(9, db.add(9, 1));
    db.release(db.held.findIndex((h) => h.roomIds.length === 1)); // the join's snapshot
    await s.received.until((all) => all.length === 5);
    db.release(0); // the fold's snapshot, which never saw room 9
    await settle();
    hub.publish(1, db.add(1, 2));
    await s.received.until((all) => all.length === 6);
    const position = decodePosition(s.received.entries.at(-1)!.id)!;
    expect(position.rooms.get(9)).toBe(1);
  });

  it('after a bus outage, follows rooms joined meanwhile and reads what rooms missed', async () => {
    const db = new Rooms();
    db.memberships.set(1, [{ roomId: 3, joinedSeq: 0 }]);
    const { outage, hub, s } = await hubThroughOutage(db);
    outage.down = true;
    hub.publish(3, db.add(3, 1));
    db.memberships.set(1, [...db.memberships.get(1)!, { roomId: 4, joinedSeq: 0 }]);
    hub.publishJoin(1, { roomId: 4, joinedSeq: 0 });
    hub.publish(4, db.add(4, 1));
    outage.resync();
    await s.received.until((all) => all.length === 2);
    hub.publish(4, db.add(4, 2));
    await s.received.until((all) => all.length === 3);
    expect([...s.contents()].sort()).toEqual(['r3:1', 'r4:1', 'r4:2']);
    expect(s.contents().at(-1)).toBe('r4:2');
  });

  it('after a bus outage, stops following rooms left meanwhile', async () => {
    const db = new Rooms();
    db.memberships.set(1, [
      { roomId: 3, joinedSeq: 0 },
      { roomId: 4, joinedSeq: 0 },
    ]);
    const { outage, hub, s } = await hubThroughOutage(db);
    outage.down = true;
    db.memberships.set(1, [{ roomId: 3, joinedSeq: 0 }]);
    hub.publishLeave(1, 4); // lost with the bus
    outage.resync();
    await expect.poll(() => hub.roomsFollowedBy(1)).toEqual([3]);
    hub.publish(4, db.add(4, 1));
    hub.publish(3, db.add(3, 1));
    await s.received.until((all) => all.length === 1);
    expect(s.contents()).toEqual(['r3:1']);
  });
});
