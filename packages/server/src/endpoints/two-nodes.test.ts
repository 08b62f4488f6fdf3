import type { BusHandler, FanoutBus } from '@streampod/framework';
import { failureOf, stockHttpClient } from '@streampod/framework/testing';
import type { ChatMessage } from '@streampod/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../chat/chat-hub.js';
import { openDatabase, type Database } from '../db/index.js';
import { createRoom, openChatStream, send } from '../testing/chat-helpers.js';
import { createTestPostgres } from '../testing/postgres.js';
import { connectDevice, registerUser, watchPresence } from '../testing/presence-helpers.js';
import { startTwoNodes } from '../testing/two-nodes.js';

/**
 * A bus that holds back the `message` events of rooms a node hears, until the test lets
 * them through in the order it chooses: what a node sees when two writers publish at once.
 */
class HoldingBus implements FanoutBus {
  readonly held: { value: RoomEvent; topic: string; handler: BusHandler<RoomEvent> }[] = [];
  holding = false;

  constructor(private readonly inner: FanoutBus) {}

  publish<T>(topic: string, value: T): void {
    this.inner.publish(topic, value);
  }

  subscribe<T>(topic: string, handler: BusHandler<T>): Promise<() => void> {
    if (!topic.startsWith('room:')) return this.inner.subscribe(topic, handler);
    return this.inner.subscribe<RoomEvent>(topic, (value) => {
      if (this.holding && value.event.type === 'message')
        this.held.push({ value, topic, handler: handler as BusHandler<RoomEvent> });
      else (handler as BusHandler<RoomEvent>)(value, topic);
    });
  }

  /** Lets the held events through, those matching `pick` only when given, in `order`. */
  release(order: 'as-sent' | 'reversed', pick: (e: RoomEvent) => boolean = () => true): void {
    const chosen = this.held.filter((h) => pick(h.value));
    this.held.splice(0, this.held.length, ...this.held.filter((h) => !pick(h.value)));
    if (order === 'reversed') chosen.reverse();
    for (const { value, topic, handler } of chosen) handler(value, topic);
  }

  onResync(listener: (lostForMs: number) => void): () => void {
    return this.inner.onResync(listener);
  }

  get topicCount(): number {
    return this.inner.topicCount;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const engines: [string, () => Promise<Database & { url?: string }>][] = [
  ['the embedded database', () => openDatabase({ dataDir: 'memory' })],
  [
    'PostgreSQL',
    async () => {
      const pg = await createTestPostgres();
      const db = await openDatabase({ url: pg.url });
      return { ...db, close: async () => (await db.close(), await pg.drop()) };
    },
  ],
];

describe.each(engines)('two nodes sharing one bus, one store and %s', (_name, open) => {
  let database: Database;
  let holding: HoldingBus | undefined;
  let nodes: Awaited<ReturnType<typeof startTwoNodes>>;
  beforeAll(async () => {
    database = await open();
    nodes = await startTwoNodes({
      database,
      typingTimeoutMs: 300,
      presenceBatchMs: 20,
      wrapBus: (bus, node) => (node === 'b' ? (holding = new HoldingBus(bus)) : bus),
    });
  });
  afterAll(async () => {
    await nodes[Symbol.asyncDispose]();
    await database.close();
  });

  async function pair() {
    const { a, b } = nodes;
    const ann = await registerUser(a, 'ann');
    const ben = await registerUser(a, 'ben');
    const onA = await connectDevice(a, ann.token);
    const onB = await connectDevice(b, ben.token);
    const room = await createRoom(onA, { name: 'two nodes', memberIds: [ben.id] });
    return {
      ann,
      ben,
      onA,
      onB,
      room,
      [Symbol.asyncDispose]: async () => void (await Promise.all([onA.close(), onB.close()])),
    };
  }

  it('delivers messages sent through either node to streams on both, in the order of chat.history', async () => {
    await using t = await pair();
    const readerA = openChatStream(t.onA);
    const readerB = openChatStream(t.onB);
    await Promise.all([readerA.ready(), readerB.ready()]);
    await Promise.all(Array.from({ length: 40 }, (_v, i) => send(i % 2 === 0 ? t.onA : t.onB, t.room.id, `m${i}`)));
    await Promise.all([readerA.untilMessages(40), readerB.untilMessages(40)]);
    const history = ((await t.onA.query('chat.history', { roomId: t.room.id, limit: 100 })) as ChatMessage[]).map(
      (m) => m.content,
    );
    expect(history).toHaveLength(40);
    expect(readerA.messages()).toEqual(history);
    expect(readerB.messages()).toEqual(history);
  });

  it('a node that hears a room out of order reads the gap from the database and drops what it had', async () => {
    await using t = await pair();
    const reader = openChatStream(t.onB);
    await reader.ready();
    holding!.holding = true;
    try {
      for (let i = 1; i <= 5; i++) await send(t.onA, t.room.id, `m${i}`);
      // The newest first: it skips ahead of 1–4, which come from the database; the late
      // copies of 4…1 are duplicates.
      holding!.release('reversed');
      await reader.untilMessages(5);
      // One held back while the others pass: the gap it leaves is read, its late copy dropped.
      const inRoom = (seq: number) => (e: RoomEvent) => e.seq === seq && e.event.conversationId === t.room.id;
      for (let i = 6; i <= 8; i++) await send(t.onA, t.room.id, `m${i}`);
      holding!.release('as-sent', (e) => !inRoom(7)(e));
      await reader.untilMessages(8);
      holding!.release('as-sent');
    } finally {
      holding!.holding = false;
    }
    await send(t.onA, t.room.id, 'after');
    await reader.untilMessages(9);
    expect(reader.messages()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'after']);
  });

  it('resumes on the other node from the id a stream handed out: exactly what was missed', async () => {
    await using t = await pair();
    const onA2 = await connectDevice(nodes.a, t.ben.token);
    const first = openChatStream(onA2);
    await first.ready();
    await send(t.onA, t.room.id, 'seen');
    await first.untilMessages(1);
    const lastEventId = first.lastId()!;
    await onA2.close();
    for (const text of ['x', 'y', 'z']) await send(t.onA, t.room.id, text);
    const resumed = openChatStream(t.onB, { lastEventId });
    await resumed.untilMessages(3);
    await send(t.onB, t.room.id, 'live');
    await resumed.untilMessages(4);
    expect(resumed.messages()).toEqual(['x', 'y', 'z', 'live']);
    expect(
      resumed.events.entries.flatMap((e) => (e.event.type === 'message' ? [e.event.isCatchup ?? false] : [])),
    ).toEqual([true, true, true, false]);
  });

  it('counts one user on both nodes as one user with two devices, online until the last goes', async () => {
    await using t = await pair();
    const watch = watchPresence(t.onA, [t.ben.id]);
    await watch.until(t.ben.id, (p) => p.devices === 1);
    const second = await connectDevice(nodes.a, t.ben.token);
    expect(await watch.until(t.ben.id, (p) => p.devices === 2)).toMatchObject({ status: 'online', devices: 2 });
    await second.close();
    await watch.until(t.ben.id, (p) => p.devices === 1);
    await t.onB.close();
    const offline = await watch.until(t.ben.id, (p) => p.status === 'offline');
    expect(offline.lastSeen).toBeInstanceOf(Date);
  });

  it('types over HTTP without a stream: one typer on two nodes, one start and one end for the room', async () => {
    await using t = await pair();
    const reader = openChatStream(t.onA);
    await reader.ready();
    const http = stockHttpClient(nodes.a.url, t.ben.token);
    const typing = { type: 'typing', roomId: t.room.id, isTyping: true };
    // Ben types on his device on node B and, over HTTP, on node A: still one typer.
    await http.mutation('chat.sendStreamMessage', typing);
    await t.onB.mutation('chat.sendStreamMessage', typing);
    await reader.untilEvent((e) => e.type === 'typing' && e.isTyping);
    await t.onB.mutation('chat.sendStreamMessage', { ...typing, isTyping: false });
    await http.mutation('chat.sendStreamMessage', { ...typing, isTyping: false });
    await reader.untilEvent((e) => e.type === 'typing' && !e.isTyping);
    await send(t.onA, t.room.id, 'marker');
    await reader.untilMessages(1);
    const typingEvents = reader.events.entries.flatMap((e) => (e.event.type === 'typing' ? [e.event.isTyping] : []));
    expect(typingEvents).toEqual([true, false]);
    // Muting acts on a stream: without one on this connection, it says so.
    expect(
      await failureOf(
        http.mutation('chat.sendStreamMessage', { type: 'subscription', roomId: t.room.id, subscribe: false }),
      ),
    ).toEqual({
      code: 'PRECONDITION_FAILED',
      message: 'open chat.stream on this connection first: muting acts on its stream',
    });
  });

  it('ends a typing by itself after the timeout, once, on every node', async () => {
    await using t = await pair();
    const readerA = openChatStream(t.onA);
    const annOnB = await connectDevice(nodes.b, t.ann.token);
    const readerB = openChatStream(annOnB);
    await Promise.all([readerA.ready(), readerB.ready()]);
    await t.onB.mutation('chat.sendStreamMessage', { type: 'typing', roomId: t.room.id, isTyping: true });
    const ended = (e: { type: string; isTyping?: boolean }) => e.type === 'typing' && e.isTyping === false;
    await Promise.all([readerA.untilEvent(ended), readerB.untilEvent(ended)]);
    await send(t.onB, t.room.id, 'marker');
    await Promise.all([readerA.untilMessages(1), readerB.untilMessages(1)]);
    for (const reader of [readerA, readerB]) {
      expect(reader.events.entries.flatMap((e) => (e.event.type === 'typing' ? [e.event.isTyping] : []))).toEqual([
        true,
        false,
      ]);
    }
    await annOnB.close();
  });
});
