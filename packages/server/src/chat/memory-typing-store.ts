import type { TypingExpiry, TypingStore } from './typing-store.js';

interface Room {
  version: number;
  /** user → when the typing ends (ms) */
  readonly typers: Map<number, number>;
}

/** Typing in one process, shared by the servers (nodes) that run in it. */
export class MemoryTypingStore implements TypingStore {
  readonly #rooms = new Map<number, Room>();
  readonly #byUser = new Map<number, Set<number>>();
  #version = 0;

  start(input: { roomId: number; userId: number; ttlMs: number }): Promise<{ started: boolean; version: number }> {
    const now = Date.now();
    const room = this.#room(input.roomId);
    const ends = room.typers.get(input.userId);
    const started = ends === undefined || ends <= now;
    room.typers.set(input.userId, now + input.ttlMs);
    this.#index(input.userId, input.roomId, true);
    if (started) room.version = ++this.#version;
    return Promise.resolve({ started, version: room.version });
  }

  stop(input: { roomId: number; userId: number }): Promise<{ stopped: boolean; version: number }> {
    const room = this.#rooms.get(input.roomId);
    if (room === undefined || !room.typers.delete(input.userId)) {
      return Promise.resolve({ stopped: false, version: room?.version ?? 0 });
    }
    this.#index(input.userId, input.roomId, false);
    room.version = ++this.#version;
    this.#forgetIfEmpty(input.roomId, room);
    return Promise.resolve({ stopped: true, version: room.version });
  }

  expire(input: { roomId: number; userId: number }): Promise<TypingExpiry> {
    const room = this.#rooms.get(input.roomId);
    const ends = room?.typers.get(input.userId);
    if (room === undefined || ends === undefined) return Promise.resolve({ state: 'gone' });
    const remainingMs = ends - Date.now();
    if (remainingMs > 0) return Promise.resolve({ state: 'typing', remainingMs });
    room.typers.delete(input.userId);
    this.#index(input.userId, input.roomId, false);
    room.version = ++this.#version;
    this.#forgetIfEmpty(input.roomId, room);
    return Promise.resolve({ state: 'expired', version: room.version });
  }

  roomsOf(userId: number): Promise<number[]> {
    return Promise.resolve([...(this.#byUser.get(userId) ?? [])]);
  }

  close(): Promise<void> {
    this.#rooms.clear();
    this.#byUser.clear();
    return Promise.resolve();
  }

  #room(roomId: number): Room {
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = { version: 0, typers: new Map() }));
    return room;
  }

  // Versions keep growing across an emptied room: a receiver may still hold a high one.
  #forgetIfEmpty(roomId: number, room: Room): void {
    if (room.typers.size === 0) this.#rooms.delete(roomId);
  }

  #index(userId: number, roomId: number, typing: boolean): void {
    let rooms = this.#byUser.get(userId);
    if (typing) {
      if (rooms === undefined) this.#byUser.set(userId, (rooms = new Set()));
      rooms.add(roomId);
    } else if (rooms !== undefined) {
      rooms.delete(roomId);
      if (rooms.size === 0) this.#byUser.delete(userId);
    }
  }
}
