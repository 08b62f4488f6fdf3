import { describe, expect, it } from 'vitest';
import { createLogger } from '../host/logger.js';
import { Connection } from './connection.js';
import { StreamSession, type StreamSink } from './session.js';

describe('StreamSession.onClosed', () => {
  function openSession() {
    const sink: StreamSink = {
      send: () => undefined,
      opened: (key) => key,
      end: () => undefined,
      error: () => undefined,
    };
    const session = StreamSession.create({
      runtime: { log: createLogger('silent'), services: {} },
      connection: new Connection('ws', '127.0.0.1', null),
      path: 'test.stream',
      input: {},
      sink,
      key: undefined,
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
