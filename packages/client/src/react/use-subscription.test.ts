// @vitest-environment happy-dom
import {
  CounterEndpoint,
  FreezableProxy,
  ProbeEndpoint,
  Recorder,
  startProbeServer,
  type TestServer,
} from '@streampod/framework/testing';
import { act, createElement, StrictMode, type ReactElement } from 'react';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { probeClient, type ProbeApi } from '../runtime/probe-client.fixture.js';
import type { ApiClient } from '../runtime/client.js';
import type { SubscriptionState } from '../runtime/live-state.js';
import { render } from './render.fixture.js';
import { StreampodProvider, useStreampodClient } from './streampod-provider.js';
import { useConnectionState, useSubscription } from './use-subscription.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let probe: ProbeEndpoint;
let counter: CounterEndpoint;
let server: TestServer;
beforeEach(async () => {
  probe = new ProbeEndpoint();
  counter = new CounterEndpoint();
  server = await startProbeServer({ endpoints: { probe, counter } });
});
afterEach(() => server.close());

/** Renders `hook`'s result as text, and every result into `seen`, until the returned app is disposed. */
function Probe<T>(props: { hook: () => T; seen: Recorder<T> }): ReactElement {
  const value = props.hook();
  props.seen.push(value);
  return createElement('span', null, JSON.stringify(value));
}

/** Waits, inside `act` (so the render is flushed), until the latest rendered value passes `test`. */
async function until<T>(seen: Recorder<T>, test: (value: T) => boolean): Promise<T> {
  await act(() => seen.until((all) => all.length > 0 && test(all.at(-1)!)));
  return seen.entries.at(-1)!;
}

/**
 * Renders `hook` under a provider for `client` (given the provider's client, as a component
 * gets it), each result into `opts.seen`; `opts.strict` wraps it in React StrictMode.
 */
function renderHook<T>(
  client: ApiClient<ProbeApi>,
  hook: (api: ApiClient<ProbeApi>) => T,
  opts: { seen: Recorder<T>; strict?: boolean },
) {
  function Component(): ReactElement {
    const api = useStreampodClient<ApiClient<ProbeApi>>();
    return createElement(Probe<T>, { hook: () => hook(api), seen: opts.seen });
  }
  const tree = createElement(StreampodProvider, { client }, createElement(Component));
  return render(opts.strict === true ? createElement(StrictMode, null, tree) : tree);
}

it('useSubscription by method: pending, then each event as data, then ended; typed from the method', async () => {
  const client = probeClient(server.url, { WebSocket });
  const seen = new Recorder<SubscriptionState<number>>();
  await using app = await renderHook(client, (api) => useSubscription(api.counter.count, { to: 3 }), { seen });
  expect(seen.entries[0]).toEqual({ status: 'pending', data: undefined, error: null });
  const ended = await until(seen, (s) => s.status === 'ended');
  expect(ended).toEqual({ status: 'ended', data: 3, error: null });
  expect(seen.entries.map((s) => s.data).filter((d) => d !== undefined)).toEqual(expect.arrayContaining([3]));
  expect(app.text()).toBe(JSON.stringify({ status: 'ended', data: 3, error: null }));
  await client.close();
});

it('useSubscription by path, disabled until enabled, a push stream the server hears close on unmount', async () => {
  const client = probeClient(server.url, { WebSocket });
  const seen = new Recorder<SubscriptionState<string>>();
  function Watch(props: { enabled: boolean }): ReactElement {
    return createElement(Probe<SubscriptionState<string>>, {
      hook: () => useSubscription<void, string>('counter.watch', undefined, { enabled: props.enabled }),
      seen,
    });
  }
  const app = await render(createElement(StreampodProvider, { client }, createElement(Watch, { enabled: false })));
  expect(seen.entries.at(-1)).toEqual({ status: 'idle', data: undefined, error: null });
  expect(counter.watchers.size).toBe(0);
  await app.rerender(createElement(StreampodProvider, { client }, createElement(Watch, { enabled: true })));
  expect(await until(seen, (s) => s.data !== undefined)).toEqual({ status: 'live', data: 'watching', error: null });
  expect(counter.watchers.size).toBe(1);
  await app[Symbol.asyncDispose]();
  await counter.events.untilCount('watch:closed');
  expect(counter.watchers.size).toBe(0);
  await client.close();
});

it('useSubscription shows a refusal as error, with the server’s message', async () => {
  const client = probeClient(server.url, { WebSocket });
  const seen = new Recorder<SubscriptionState<number>>();
  await using _app = await renderHook(client, (api) => useSubscription(api.counter.count, { to: 1000 }), { seen });
  const failed = await until(seen, (s) => s.status === 'error');
  expect(failed.error?.message).toMatch(/to/);
  await client.close();
});

it('useConnectionState follows the connection: connecting, connected, reconnecting, connected', async () => {
  await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
  const client = probeClient(`http://127.0.0.1:${proxy.port}`, { WebSocket });
  const seen = new Recorder<string>();
  await using _app = await renderHook(client, () => useConnectionState(), { seen });
  expect(seen.entries[0]).toBe('connecting');
  await act(async () => void (await client.counter.add({ a: 1, b: 2 })));
  await until(seen, (s) => s === 'connected');
  await act(async () => proxy.cut());
  await until(seen, (s) => s === 'reconnecting');
  await until(seen, (s) => s === 'connected');
  await act(() => client.close());
});

it('useSubscription under StrictMode (mount, unmount, mount at once) keeps one stream on the server', async () => {
  const client = probeClient(server.url, { WebSocket });
  const seen = new Recorder<SubscriptionState<string>>();
  const app = await renderHook(client, (api) => useSubscription(api.counter.watch, undefined), {
    seen,
    strict: true,
  });
  await until(seen, (s) => s.data === 'watching');
  await client.counter.add({ a: 1, b: 1 }); // a round trip: any second subscription has reached the server by now
  expect(counter.events.entries.filter((e) => e === 'watch:opened')).toHaveLength(1);
  expect(counter.watchers.size).toBe(1);
  await app[Symbol.asyncDispose]();
  await counter.events.untilCount('watch:closed');
  expect(counter.watchers.size).toBe(0);
  await act(() => client.close());
});
