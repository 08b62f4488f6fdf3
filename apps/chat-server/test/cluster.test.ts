import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage, UserPresence } from '@streampod/protocol';
import {
  connectDevice,
  createRoom,
  createTestPostgres,
  openChatStream,
  registerUser,
  send,
  startTestRedis,
  startTestRedisCluster,
  watchPresence,
  watchRoom,
  type TestPostgres,
  type TestRedis,
} from '@streampod/server/testing';
import { FreezableProxy, stockHttpClient, stockWsClient, type StockWsClient } from '@streampod/framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatServerProcess } from './chat-server-process.js';

/** Clocks short enough for tests; every one reaches the server through its variable. */
const clocks = {
  HEARTBEAT_INTERVAL_MS: '100',
  PRESENCE_TIMEOUT_MS: '600',
  NODE_LEASE_MS: '3000',
  TYPING_TIMEOUT_MS: '600',
  PRESENCE_BATCH_MS: '20',
  AUTH_SECRET: 'cluster-test-secret-cluster-test-secret-0123456789',
  // These tests send as fast as they can: rate limits are not their subject.
  RATE_LIMIT_MESSAGES: '100000/1s',
  RATE_LIMIT_TYPING: '100000/1s',
  RATE_LIMIT_ROOMS: '100000/1s',
};

const dataDir = () => mkdtemp(join(tmpdir(), 'streampod-cluster-'));

async function startNode(env: Record<string, string>): Promise<ChatServerProcess> {
  return ChatServerProcess.start({ ...clocks, DATA_DIR: await dataDir(), ...env });
}

/** `/healthz` of a node until `test` holds for it. */
async function healthUntil(node: ChatServerProcess, test: (h: Record<string, unknown>) => boolean) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const health = (await (await fetch(`${node.url}/healthz`)).json()) as Record<string, unknown>;
    if (test(health)) return health;
    if (Date.now() > deadline) throw new Error(`healthz never matched: ${JSON.stringify(health)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `promise`, or a failure saying what was missing once `ms` have passed: a lost message fails fast, not at the test timeout. */
async function within<T>(ms: number, promise: Promise<T>, missing: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(missing())), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Changes (not the snapshot) a watcher received for `userId`, in order. */
const changesOf = (watch: ReturnType<typeof watchPresence>, userId: number): UserPresence[] =>
  watch.batches.entries.flatMap((b) => (b.snapshot ? [] : b.updates.filter((u) => u.userId === userId)));

describe('many nodes, one chat: real processes on Redis and PostgreSQL', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let pg: TestPostgres;
  let node1: ChatServerProcess;
  let node2: ChatServerProcess;
  const env = () => ({ REDIS_URL: redis.url, DATABASE_URL: pg.url });

  beforeAll(async () => {
    redis = await startTestRedis();
    pg = await createTestPostgres();
    node1 = await startNode(env());
    node2 = await startNode(env());
  }, 60_000);
  afterAll(async () => {
    await node1?.[Symbol.asyncDispose]();
    await node2?.[Symbol.asyncDispose]();
    await pg?.drop();
    await redis?.[Symbol.asyncDispose]();
  });

  it('room presence and leaving a room work across nodes', async () => {
    const ann = await registerUser(node1, 'ann');
    const ben = await registerUser(node2, 'ben');
    await using a = await connectDevice(node1, ann.token);
    const room = await createRoom(a, { name: 'who is here', memberIds: [ben.id] });
    const watch = watchRoom(a, room.id);
    await watch.until((s) => s.memberCount === 2 && s.onlineCount === 1);
    // Ben comes online, goes busy and watches the room himself, all on the other node.
    const b = await connectDevice(node2, ben.token);
    await watch.until((s) => s.members.get(ben.id)?.status === 'online' && s.onlineCount === 2);
    await b.mutation('presence.setStatus', { status: 'busy' });
    await watch.until((s) => s.members.get(ben.id)?.status === 'busy');
    const own = watchRoom(b, room.id);
    await own.until((s) => s.memberCount === 2);
    await b.mutation('chat.leaveRoom', { roomId: room.id });
    const after = await watch.until((s) => s.memberCount === 1);
    expect(after.members.has(ben.id)).toBe(false);
    expect(after.onlineCount).toBe(1);
    await own.errors.until((all) => all.length === 1);
    expect(own.errors.entries[0]).toMatch(/^FORBIDDEN/);
    await b.close();
  });

  it('refuses REDIS_URL without a shared database, naming why', async () => {
    const noDb = await ChatServerProcess.failing({ DATA_DIR: await dataDir(), REDIS_URL: redis.url });
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toContain('REDIS_URL: several nodes need a shared PostgreSQL: set DATABASE_URL too');
  });

  it('nodes given no AUTH_SECRET share the one the first of them generated', async () => {
    await using db = await createTestPostgres();
    const own = { REDIS_URL: redis.url, DATABASE_URL: db.url, AUTH_SECRET: '' };
    await using first = await startNode(own);
    await using second = await startNode(own);
    const user = await registerUser(first, 'secretive');
    const elsewhere = stockHttpClient(second.url, user.token);
    expect(await elsewhere.query('users.me')).toMatchObject({ id: user.id });
  });

  it('shares presence, devices, typing and messages between users on two nodes', async () => {
    const ann = await registerUser(node1, 'ann');
    const ben = await registerUser(node2, 'ben');
    await using a = await connectDevice(node1, ann.token);
    await using b = await connectDevice(node2, ben.token);
    const room = await createRoom(a, { name: 'across', memberIds: [ben.id] });
    const watch = watchPresence(a, [ben.id]);
    expect(await watch.until(ben.id, (p) => p.status === 'online')).toMatchObject({ devices: 1 });
    // Ben's second device, on the other node: one user, two devices.
    await using b2 = await connectDevice(node1, ben.token);
    await watch.until(ben.id, (p) => p.devices === 2);

    const annStream = openChatStream(a);
    const benStream = openChatStream(b);
    await Promise.all([annStream.ready(), benStream.ready()]);
    await send(a, room.id, 'from node 1');
    await send(b2, room.id, 'from node 1, by ben');
    await send(b, room.id, 'from node 2');
    await Promise.all([annStream.untilMessages(3), benStream.untilMessages(3)]);
    expect(benStream.messages()).toEqual(['from node 1', 'from node 1, by ben', 'from node 2']);
    expect(annStream.messages()).toEqual(benStream.messages());

    // Typing over HTTP, to the node Ben has no stream on: Ann sees it start, then end by itself.
    const http = stockHttpClient(node1.url, ben.token);
    await http.mutation('chat.sendStreamMessage', { type: 'typing', roomId: room.id, isTyping: true });
    await annStream.untilEvent((e) => e.type === 'typing' && e.isTyping);
    await annStream.untilEvent((e) => e.type === 'typing' && !e.isTyping);
    // A message behind them: anything after the end (a second one) would have come first.
    await send(b, room.id, 'marker');
    await Promise.all([annStream.untilMessages(4), benStream.untilMessages(4)]);
    expect(annStream.events.entries.filter((e) => e.event.type === 'typing').map((e) => e.event)).toMatchObject([
      { isTyping: true },
      { isTyping: false },
    ]);
    expect(benStream.events.entries.filter((e) => e.event.type === 'typing')).toHaveLength(0);

    await b2.close();
    await watch.until(ben.id, (p) => p.devices === 1);
  });

  it('keeps one order per room for every reader on every node, and for chat.history, across 20 rounds', async () => {
    const [s1, s2, r1, r2, resumer] = await Promise.all(
      ['s1', 's2', 'r1', 'r2', 'resumer'].map((name, i) => registerUser(i % 2 === 0 ? node1 : node2, name)),
    );
    const clients = new Map<string, StockWsClient>();
    const on = async (node: ChatServerProcess, user: { token: string }, key: string) => {
      const client = await connectDevice(node, user.token);
      clients.set(key, client);
      return client;
    };
    const sender1 = await on(node1, s1!, 's1');
    const sender2 = await on(node2, s2!, 's2');
    const reader1 = await on(node1, r1!, 'r1');
    const reader2 = await on(node2, r2!, 'r2');
    try {
      for (let round = 0; round < 20; round++) {
        const room = await createRoom(sender1, {
          name: `order ${round}`,
          memberIds: [s2!.id, r1!.id, r2!.id, resumer!.id],
        });
        const inRoom = (stream: ReturnType<typeof openChatStream>) =>
          stream.events.entries.flatMap((e) =>
            e.event.type === 'message' && e.event.conversationId === room.id ? [e.event.content] : [],
          );
        const stream1 = openChatStream(reader1);
        const stream2 = openChatStream(reader2);
        let resumerClient = stockWsClient(node1.wsUrl, resumer!.token);
        let resumerStream = openChatStream(resumerClient);
        await Promise.all([stream1.ready(), stream2.ready(), resumerStream.ready()]);

        // Two senders on two nodes, as fast as they can, 16 sends in flight each.
        const sendAll = async (client: StockWsClient, tag: string) => {
          let next = 0;
          await Promise.all(
            Array.from({ length: 16 }, async () => {
              while (next < 150) await send(client, room.id, `${tag}${next++}`);
            }),
          );
        };
        const sending = Promise.all([sendAll(sender1, 'a'), sendAll(sender2, 'b')]);

        // Meanwhile the resumer drops five times, resuming on the other node each time.
        const resumed: string[] = [];
        let lastEventId: string | undefined;
        for (let drop = 1; drop <= 5; drop++) {
          const seen = resumed.length;
          const current = resumerStream;
          // Each drop comes after 50 more messages, with at least one on this stream to resume from.
          await current.events.until(
            () =>
              seen + inRoom(current).length >= Math.min(drop * 50, 300) && (inRoom(current).length > 0 || seen >= 300),
          );
          resumed.push(...inRoom(current));
          lastEventId = current.lastId() ?? lastEventId;
          await resumerClient.close();
          resumerClient = stockWsClient((drop % 2 === 1 ? node2 : node1).wsUrl, resumer!.token);
          resumerStream = openChatStream(resumerClient, lastEventId === undefined ? {} : { lastEventId });
        }
        await sending;
        const finalStream = resumerStream;
        await within(
          30_000,
          Promise.all([
            stream1.events.until(() => inRoom(stream1).length >= 300),
            stream2.events.until(() => inRoom(stream2).length >= 300),
            finalStream.events.until(() => resumed.length + inRoom(finalStream).length >= 300),
          ]),
          () =>
            `round ${round}: readers have ${inRoom(stream1).length}, ${inRoom(stream2).length} and ` +
            `${resumed.length + inRoom(finalStream).length} of 300 messages`,
        );
        resumed.push(...inRoom(resumerStream));
        await resumerClient.close();
        stream1.stop();
        stream2.stop();

        const newest = (await sender1.query('chat.history', { roomId: room.id, limit: 200 })) as ChatMessage[];
        const older = (await sender1.query('chat.history', {
          roomId: room.id,
          limit: 200,
          beforeMessageId: newest[0]!.id,
        })) as ChatMessage[];
        const history = [...older, ...newest].map((m) => m.content);
        expect(history).toHaveLength(300);
        expect(new Set(history).size).toBe(300);
        expect(inRoom(stream1), `round ${round}, reader on node 1`).toEqual(history);
        expect(inRoom(stream2), `round ${round}, reader on node 2`).toEqual(history);
        expect(resumed, `round ${round}, reader resuming on alternating nodes`).toEqual(history);
      }
    } finally {
      await Promise.all([...clients.values()].map((c) => c.close()));
    }
  }, 240_000);

  it('a node killed with -9: its users go offline elsewhere within the lease, once; its clients reconnect to another node', async () => {
    const node3 = await startNode({ ...env(), NODE_LEASE_MS: '1200' });
    await using _node3 = node3;
    const watcher = await registerUser(node1, 'watcher');
    const gone = await registerUser(node3, 'gone');
    const crowd = await Promise.all(Array.from({ length: 20 }, (_v, i) => registerUser(node3, `crowd${i}`)));
    await using w = await connectDevice(node1, watcher.token);
    await createRoom(w, { name: 'all', memberIds: [gone.id, ...crowd.map((u) => u.id)] });
    const watch = watchPresence(w, [gone.id, ...crowd.map((u) => u.id)]);

    // The crowd reaches node 3 through a load balancer; `gone` connects to it directly.
    await using balancer = await FreezableProxy.start(node3.port);
    const viaBalancer = `ws://127.0.0.1:${balancer.port}/trpc`;
    const crowdClients = crowd.map((u) => stockWsClient(viaBalancer, u.token));
    await Promise.all(crowdClients.map((c) => c.query('users.me')));
    const goneClient = await connectDevice(node3, gone.token);
    for (const u of [gone, ...crowd]) await watch.until(u.id, (p) => p.status === 'online');

    balancer.retarget(node2.port);
    const killedAt = Date.now();
    await node3.stop('SIGKILL');
    const offline = await watch.until(gone.id, (p) => p.status === 'offline');
    const tookMs = Date.now() - killedAt;
    // Its lease, plus a renewal interval of the node that notices, plus the heartbeat timeout.
    expect(tookMs).toBeLessThan(1_200 + 1_000 + Number(clocks.PRESENCE_TIMEOUT_MS) + 1_000);
    expect(offline.lastSeen).toBeInstanceOf(Date);
    // The reconnect storm: every client of node 3 at once on node 2, and presence exact after.
    for (const u of crowd) await watch.until(u.id, (p) => p.status === 'online' && p.devices === 1);
    await Promise.all(crowdClients.map((c) => c.query('users.me')));
    const marker = await registerUser(node1, 'marker');
    await createRoom(w, { name: 'marker', memberIds: [marker.id] });
    const markerWatch = watchPresence(w, [marker.id, gone.id]);
    await using m = await connectDevice(node2, marker.token);
    await markerWatch.until(marker.id, (p) => p.status === 'online');
    expect(changesOf(watch, gone.id).filter((p) => p.status === 'offline')).toHaveLength(1);
    expect(markerWatch.batches.entries[0]?.updates.find((u) => u.userId === gone.id)?.status).toBe('offline');
    void m;
    await Promise.all([...crowdClients, goneClient].map((c) => c.close()));
  });

  it('a graceful stop takes its users offline at once, and one that moves to another node never looks offline', async () => {
    const node4 = await startNode({ ...env(), NODE_LEASE_MS: '30000' });
    const watcher = await registerUser(node1, 'watcher');
    const leaver = await registerUser(node4, 'leaver');
    const mover = await registerUser(node4, 'mover');
    await using w = await connectDevice(node1, watcher.token);
    await createRoom(w, { name: 'stop', memberIds: [leaver.id, mover.id] });
    const watch = watchPresence(w, [leaver.id, mover.id]);
    await using balancer = await FreezableProxy.start(node4.port);
    const moverClient = stockWsClient(`ws://127.0.0.1:${balancer.port}/trpc`, mover.token);
    await moverClient.query('users.me');
    const leaverClient = await connectDevice(node4, leaver.token);
    for (const u of [leaver, mover]) await watch.until(u.id, (p) => p.status === 'online');

    balancer.retarget(node2.port);
    const stoppedAt = Date.now();
    expect(await node4.stop('SIGTERM')).toBe(0);
    await watch.until(leaver.id, (p) => p.status === 'offline');
    // Not after the 30 s lease: the node said goodbye.
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    await moverClient.query('users.me');
    await within(
      20_000,
      watch.until(mover.id, (p) => p.status === 'online' && p.devices === 1),
      () => JSON.stringify(changesOf(watch, mover.id)),
    );
    expect(changesOf(watch, mover.id).map((p) => p.status)).not.toContain('offline');
    await Promise.all([moverClient.close(), leaverClient.close()]);
  });
});

describe('a Redis restart under two nodes', { timeout: 60_000 }, () => {
  it('keeps each node serving its own clients, says degraded, and converges after with nothing lost and no stuck typing', async () => {
    await using redis = await startTestRedis();
    await using pg = await createTestPostgres();
    const env = { REDIS_URL: redis.url, DATABASE_URL: pg.url };
    await using node1 = await startNode(env);
    await using node2 = await startNode(env);
    const ann = await registerUser(node1, 'ann');
    const ben = await registerUser(node2, 'ben');
    const cyd = await registerUser(node2, 'cyd');
    await using a = await connectDevice(node1, ann.token);
    await using a2 = await connectDevice(node1, ann.token);
    await using b = await connectDevice(node2, ben.token);
    const c = await connectDevice(node2, cyd.token);
    const room = await createRoom(a, { name: 'outage', memberIds: [ben.id, cyd.id] });
    const watchCyd = watchPresence(a, [cyd.id]);
    await watchCyd.until(cyd.id, (p) => p.status === 'online');
    const annStream = openChatStream(a2);
    const benStream = openChatStream(b);
    await Promise.all([annStream.ready(), benStream.ready()]);
    await send(a, room.id, 'before');
    await benStream.untilMessages(1);
    await b.mutation('chat.sendStreamMessage', { type: 'typing', roomId: room.id, isTyping: true });
    await annStream.untilEvent((e) => e.type === 'typing' && e.isTyping);

    await redis.stop();
    for (const node of [node1, node2]) {
      expect(await healthUntil(node, (h) => h['degraded'] === true)).toMatchObject({
        ok: true,
        degraded: true,
        redis: 'unreachable',
      });
    }
    // Each node still serves its own: stored, and heard on the same node at once.
    await send(a, room.id, 'during');
    await annStream.untilMessages(2);
    // Typing still ends by itself: nothing stays stuck while Redis is away.
    await annStream.untilEvent((e) => e.type === 'typing' && !e.isTyping);
    // Cyd leaves while nobody can be told.
    await c.close();

    await redis.restart();
    for (const node of [node1, node2]) await healthUntil(node, (h) => h['degraded'] === false);
    // Node 2 reads what it could not hear.
    await benStream.untilMessages(2);
    await send(a, room.id, 'after');
    await Promise.all([benStream.untilMessages(3), annStream.untilMessages(3)]);
    expect(benStream.messages()).toEqual(['before', 'during', 'after']);
    expect(annStream.messages()).toEqual(['before', 'during', 'after']);
    // Cyd left during the outage: once Redis is back, she is offline for everyone.
    expect(await watchCyd.until(cyd.id, (p) => p.status === 'offline')).toMatchObject({ devices: 0 });
    // Presence came back from the nodes, not from Redis' empty memory.
    const watch = watchPresence(a, [ben.id]);
    expect(await watch.until(ben.id, () => true)).toMatchObject({ status: 'online', devices: 1 });
    await using b2 = await connectDevice(node2, ben.token);
    await watch.until(ben.id, (p) => p.devices === 2);
    void b2;
    // And typing works again across nodes.
    const typing = () => annStream.events.entries.flatMap((e) => (e.event.type === 'typing' ? [e.event.isTyping] : []));
    await b.mutation('chat.sendStreamMessage', { type: 'typing', roomId: room.id, isTyping: true });
    await annStream.events.until(() => typing().length >= 3);
    expect(typing().slice(0, 3)).toEqual([true, false, true]);
  });
});

describe('on a Redis Cluster, with no change but REDIS_URL', { timeout: 60_000 }, () => {
  it('two nodes share presence and messages', async () => {
    await using cluster = await startTestRedisCluster(3);
    await using pg = await createTestPostgres();
    const env = { REDIS_URL: cluster.url, DATABASE_URL: pg.url };
    await using node1 = await startNode(env);
    await using node2 = await startNode(env);
    expect(node1.logs.find((l) => String(l['msg']).startsWith('chat server listening'))).toMatchObject({
      redis: 'cluster',
    });
    const ann = await registerUser(node1, 'ann');
    const ben = await registerUser(node2, 'ben');
    await using a = await connectDevice(node1, ann.token);
    await using b = await connectDevice(node2, ben.token);
    const room = await createRoom(a, { name: 'cluster', memberIds: [ben.id] });
    const watch = watchPresence(a, [ben.id]);
    await watch.until(ben.id, (p) => p.status === 'online');
    const stream = openChatStream(b);
    await stream.ready();
    await send(a, room.id, 'sharded');
    await stream.untilMessages(1);
    expect(stream.messages()).toEqual(['sharded']);
  });
});
