import { createLogger } from '@streampod/framework';
import { Recorder } from '@streampod/framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCounterClient, type CounterClient } from '../src/client.js';
import type { Counter, RoomEvent } from '../src/schemas.js';
import { startCounterServer } from '../src/server.js';

let app: Awaited<ReturnType<typeof startCounterServer>>;
const clients: CounterClient[] = [];
beforeAll(async () => {
  app = await startCounterServer({ port: 0, logger: createLogger('silent') });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await app.server.close();
});

/** A client signed in as `name` (or nobody); no WebSocket class given, as on Node 20 for real. */
function as(name?: string): CounterClient {
  const client = createCounterClient({ url: app.url, ...(name === undefined ? {} : { token: `demo:${name}` }) });
  clients.push(client);
  return client;
}

const codeOf = (error: unknown) => (error as { data?: { code?: string } }).data?.code;

describe('calls', () => {
  it('reads a counter anyone can see, and adds to it only when signed in', async () => {
    expect(await as().counter.get({ name: 'cups' })).toEqual({ name: 'cups', value: 0, updatedBy: null });
    const refused = await as()
      .counter.increment({ name: 'cups' })
      .catch((e: unknown) => e);
    expect(codeOf(refused)).toBe('UNAUTHORIZED');
    expect(await as('ada').counter.increment({ name: 'cups', by: 2 })).toEqual({
      name: 'cups',
      value: 2,
      updatedBy: 'ada',
    });
    expect(await as().counter.get({ name: 'cups' })).toMatchObject({ value: 2 });
  });

  it('names the field of a bad input', async () => {
    const refused = (await as('ada')
      .counter.increment({ name: 'cups', by: 1000 })
      .catch((e: unknown) => e)) as Error;
    expect(codeOf(refused)).toBe('BAD_REQUEST');
    expect(refused.message).toMatch(/^by: /);
  });
});

describe('a streaming method', () => {
  it('sends the counter now, then every change, to each watcher', async () => {
    const seenByBob = new Recorder<Counter>();
    const seenByCy = new Recorder<Counter>();
    const stopBob = as('bob')
      .counter.watch({ name: 'plates' })
      .listen({ onData: (c) => seenByBob.push(c) });
    as()
      .counter.watch({ name: 'plates' })
      .listen({ onData: (c) => seenByCy.push(c) });
    await seenByBob.until((all) => all.length === 1);
    await seenByCy.until((all) => all.length === 1);
    const ada = as('ada');
    await ada.counter.increment({ name: 'plates' });
    await ada.counter.increment({ name: 'plates', by: 5 });
    await seenByCy.until((all) => all.length === 3);
    expect(seenByCy.entries.map((c) => [c.value, c.updatedBy])).toEqual([
      [0, null],
      [1, 'ada'],
      [6, 'ada'],
    ]);
    await seenByBob.until((all) => all.length === 3);
    stopBob();
    await ada.counter.increment({ name: 'plates' });
    await seenByCy.until((all) => all.length === 4);
    expect(seenByBob.entries).toHaveLength(3);
  });
});

describe('an endpoint stream with hooks', () => {
  it('announces who joins (streamOpened) and leaves (streamClosed), and carries cheers both ways', async () => {
    const adaSees = new Recorder<RoomEvent>();
    const bobSees = new Recorder<RoomEvent>();
    const ada = as('ada');
    const bob = as('bob');
    ada.room.stream({ room: 'team' }).listen({ onData: (e) => adaSees.push(e) });
    await adaSees.until((all) => all.length === 1);
    expect(adaSees.entries[0]).toEqual({ type: 'joined', who: 'ada', here: ['ada'] });

    const stopBob = bob.room.stream({ room: 'team' }).listen({ onData: (e) => bobSees.push(e) });
    await adaSees.until((all) => all.length === 2);
    expect(adaSees.entries[1]).toEqual({ type: 'joined', who: 'bob', here: ['ada', 'bob'] });

    await bobSees.until((all) => all.length === 1);
    await bob.room.sendStreamMessage({ type: 'cheer', text: 'go team' });
    await adaSees.until((all) => all.length === 3);
    await bobSees.until((all) => all.length === 2);
    expect(adaSees.entries[2]).toEqual({ type: 'cheer', who: 'bob', text: 'go team' });
    expect(bobSees.entries[1]).toEqual({ type: 'cheer', who: 'bob', text: 'go team' });

    stopBob();
    await adaSees.until((all) => all.length === 4);
    expect(adaSees.entries[3]).toEqual({ type: 'left', who: 'bob' });
  });

  it('refuses a cheer from a connection with no room open', async () => {
    const refused = await as('cy')
      .room.sendStreamMessage({ type: 'cheer', text: 'hello?' })
      .catch((e: unknown) => e);
    expect(codeOf(refused)).toBe('PRECONDITION_FAILED');
  });
});
