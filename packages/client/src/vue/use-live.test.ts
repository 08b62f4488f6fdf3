// @vitest-environment happy-dom
import {
  CounterEndpoint,
  FreezableProxy,
  ProbeEndpoint,
  Recorder,
  startProbeServer,
} from '@streampod/framework/testing';
import { itWithDatabase, startChatTestServer } from '@streampod/server/testing';
import { describe, expect, it } from 'vitest';
import { defineComponent, h, nextTick, ref, watch } from 'vue';
import { WebSocket } from 'ws';
import { watchChatRoom } from '../chat/chat-room-watch.js';
import { chatPair, untilSnapshot } from '../chat/test-chat.fixture.js';
import type { ConnectionState } from '../runtime/client.js';
import { probeClient } from '../runtime/probe-client.fixture.js';
import { mount } from './mount.fixture.js';
import { createStreampod } from './streampod-plugin.js';
import { useChatRoom, useTyping } from './use-chat-room.js';
import { useConnectionState, useSubscription } from './use-subscription.js';

describe('generic composables (any streampod app)', () => {
  it('useSubscription follows its input ref: a new count resubscribes, the same content does not', async () => {
    await using server = await startProbeServer({
      endpoints: { probe: new ProbeEndpoint(), counter: new CounterEndpoint() },
    });
    const client = probeClient(server.url, { WebSocket });
    const to = ref({ to: 2 });
    const states = new Recorder<string>();
    const Count = defineComponent({
      setup() {
        const { status, data } = useSubscription(client.counter.count, to);
        watch([status, data], () => states.push(`${status.value}:${String(data.value)}`), {
          immediate: true,
          flush: 'sync',
        });
        return () => h('span', `${status.value}:${String(data.value)}`);
      },
    });
    using view = mount(Count, (app) => app.use(createStreampod(client)));
    await states.untilCount('ended:2');
    expect(view.text()).toBe('ended:2');
    to.value = { to: 2 }; // same content: nothing happens
    to.value = { to: 3 };
    await states.untilCount('ended:3');
    expect(states.entries.filter((s) => s.startsWith('ended'))).toEqual(['ended:2', 'ended:3']);
    await client.close();
  });

  it('useSubscription by path, enabled by a ref; useConnectionState across a dropped network', async () => {
    const counter = new CounterEndpoint();
    await using server = await startProbeServer({ endpoints: { probe: new ProbeEndpoint(), counter } });
    await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
    const client = probeClient(`http://127.0.0.1:${proxy.port}`, { WebSocket });
    const enabled = ref(false);
    const seen = new Recorder<string>();
    const connection = new Recorder<ConnectionState>();
    const Watch = defineComponent({
      setup() {
        const { status, data } = useSubscription<void, string>('counter.watch', undefined, { enabled });
        const state = useConnectionState();
        watch(state, (s) => connection.push(s), { immediate: true, flush: 'sync' });
        watch([status, data], () => seen.push(`${status.value}:${String(data.value)}`), {
          immediate: true,
          flush: 'sync',
        });
        return () => h('span', `${state.value} ${status.value}`);
      },
    });
    using view = mount(Watch, (app) => app.use(createStreampod(client)));
    expect(seen.entries).toEqual(['idle:undefined']);
    expect(view.text()).toBe('connecting idle');
    enabled.value = true;
    await seen.untilCount('live:watching');
    expect(counter.watchers.size).toBe(1);
    await connection.untilCount('connected');
    proxy.cut();
    await connection.untilCount('reconnecting');
    await connection.untilCount('connected', 2);
    await counter.events.untilCount('watch:opened', 2); // the client subscribed again by itself
    enabled.value = false;
    await counter.events.untilCount('watch:closed', 2); // the cut one, then the one we closed
    expect(counter.watchers.size).toBe(0);
    await client.close();
  });
});

describe('chat composables', () => {
  itWithDatabase('useChatRoom shows messages as they come, and useTyping who types', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 10_000 });
    await using t = await chatPair(server.url);
    let send: ((content: string) => Promise<unknown>) | undefined;
    let startTyping: (() => void) | undefined;
    const Room = defineComponent({
      setup() {
        const room = useChatRoom(t.room.id);
        const typing = useTyping(t.room.id);
        send = room.send;
        startTyping = typing.startTyping;
        return () =>
          h('p', [
            room.room.value.messages.map((m) => m.content).join('|'),
            ` typing:${typing.typingNames.value.join(',')}`,
          ]);
      },
    });
    using view = mount(Room, (app) => app.use(createStreampod(t.a)));
    // Bob, on his own client, says something and starts typing.
    await untilSnapshot(watchChatRoom(t.a, t.room.id), (s) => !s.isLoading);
    await t.b.chat.sendMessage({ roomId: t.room.id, content: 'hi alice', clientMessageId: 'b-1' });
    await untilSnapshot(watchChatRoom(t.a, t.room.id), (s) => s.messages.length === 1);
    await nextTick();
    expect(view.text()).toBe('hi alice typing:');

    const bobsTyping = watchChatRoom(t.b, t.room.id);
    const stopBob = bobsTyping.subscribe(() => undefined);
    await untilSnapshot(bobsTyping, (s) => !s.isLoading);
    await t.b.chat.sendStreamMessage({ type: 'typing', roomId: t.room.id, isTyping: true });
    const typing = await untilSnapshot(watchChatRoom(t.a, t.room.id), (s) => s.typingNames.length === 1);
    await nextTick();
    expect(view.text()).toBe(`hi alice typing:${typing.typingNames[0]}`);

    // Alice answers through the composable; Bob sees it.
    await send?.('hello bob');
    await untilSnapshot(bobsTyping, (s) => s.messages.some((m) => m.content === 'hello bob'));
    startTyping?.();
    await untilSnapshot(bobsTyping, (s) => s.typingUserIds.includes(t.alice.id));
    stopBob();
  });
});
