import { describe, expect, it } from 'vitest';
import { Connection } from './connection.js';
import { createLogger } from '../host/logger.js';
import { StreamSession, type StreamSink } from './session.js';
import { SetMap } from './small-sets.js';

describe('SetMap', () => {
  it('holds a key with one value, then several, and forgets the key with its last value', () => {
    const map = new SetMap<number, string>();
    expect([...map.get(1)]).toEqual([]);
    map.add(1, 'a');
    map.add(1, 'a');
    expect([...map.get(1)]).toEqual(['a']);
    expect(map.count(1)).toBe(1);
    map.add(1, 'b');
    map.add(1, 'c');
    expect([...map.get(1)]).toEqual(['a', 'b', 'c']);
    map.delete(1, 'b');
    map.delete(1, 'nobody');
    expect([...map.get(1)]).toEqual(['a', 'c']);
    map.add(2, 'x');
    expect([...map.keys()]).toEqual([1, 2]);
    map.delete(1, 'a');
    map.delete(1, 'c');
    expect(map.has(1)).toBe(false);
    expect(map.count(1)).toBe(0);
    map.delete(2, 'y');
    expect([...map.get(2)]).toEqual(['x']);
    map.delete(2, 'x');
    expect([...map.keys()]).toEqual([]);
  });
});

describe('StreamSession.onClosed', () => {
  function openSession() {
    const sink: StreamSink = { send: () => undefined, end: () => undefined, error: () => undefined };
    const session = new StreamSession({
      runtime: { log: createLogger('silent'), services: {} },
      connection: new Connection('ws', '127.0.0.1', null),
      path: 'test.stream',
      input: {},
      sink,
      tracked: false,
      resumeFrom: undefined,
    });
    return session;
  }

  it('runs every callback once, in order, each with the argument it was given, past one that throws', async () => {
    const session = openSession();
    const calls: string[] = [];
    const shared = (name: string) => void calls.push(`shared:${name}`);
    session.onClosed(shared, 'first');
    session.onClosed(() => void calls.push('plain'));
    session.onClosed(() => {
      throw new Error('boom');
    });
    session.onClosed(shared, 'last');
    await session.open(() => undefined);
    await Promise.all([session.close(), session.stop()]);
    expect(calls).toEqual(['shared:first', 'plain', 'shared:last']);
  });

  it('calls a single callback with its argument', async () => {
    const session = openSession();
    const seen: unknown[] = [];
    session.onClosed((arg: { id: number }) => void seen.push(arg), { id: 7 });
    await session.open(() => undefined);
    await session.close();
    expect(seen).toEqual([{ id: 7 }]);
  });
});
