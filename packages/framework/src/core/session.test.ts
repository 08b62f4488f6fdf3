import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../host/logger.js';
import { Connection } from './connection.js';
import { Session, StreamSession, type StreamSink } from './session.js';

describe('Session.log', () => {
  it("carries the call's path, connection and user, made once per session", () => {
    const lines: unknown[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const site = { runtime: { log, services: {} }, path: 'users.me' };
    const connection = new Connection('ws', '127.0.0.1', null);
    connection.credentials = { user: { id: 'u1' }, expiresAt: Date.now() + 60_000 };
    const session = new Session(site, connection);
    expect(session.log).toBe(session.log);
    session.log.info('hello');
    new Session(site, new Connection('ws', '127.0.0.1', null)).log.info('anonymous');
    expect(lines).toMatchObject([
      { path: 'users.me', conn: connection.id, user: 'u1', msg: 'hello' },
      { path: 'users.me', msg: 'anonymous' },
    ]);
    expect(lines[1]).not.toHaveProperty('user');
  });
});

describe('StreamSession.onClosed', () => {
  function openSession() {
    const sink: StreamSink = {
      send: () => undefined,
      opened: (key) => key,
      end: () => undefined,
      error: () => undefined,
    };
    const session = StreamSession.create({
      site: { runtime: { log: createLogger('silent'), services: {} }, path: 'test.stream' },
      connection: new Connection('ws', '127.0.0.1', null),
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
