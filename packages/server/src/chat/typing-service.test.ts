import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TypingService, type TypingChange } from './typing-service.js';

let changes: TypingChange[];
let typing: TypingService;
beforeEach(() => {
  vi.useFakeTimers();
  changes = [];
  typing = new TypingService({ timeoutMs: 5_000, onChange: (c) => changes.push(c) });
});
afterEach(() => {
  typing.close();
  vi.useRealTimers();
});

const start = (roomId: number, userId: number) => typing.set({ roomId, userId, isTyping: true });

describe('TypingService', () => {
  it('reports a start once, not on every keystroke, and an end 5 s after the last keystroke', () => {
    start(1, 7);
    vi.advanceTimersByTime(3_000);
    start(1, 7); // a keystroke later: no new event, the end moves
    start(1, 7);
    expect(changes).toEqual([{ roomId: 1, userId: 7, isTyping: true }]);
    vi.advanceTimersByTime(4_999);
    expect(typing.typers(1)).toEqual([7]);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([
      { roomId: 1, userId: 7, isTyping: true },
      { roomId: 1, userId: 7, isTyping: false },
    ]);
    expect(typing.typers(1)).toEqual([]);
  });

  it('ends at once on isTyping false, and says nothing for someone not typing', () => {
    start(1, 7);
    typing.set({ roomId: 1, userId: 7, isTyping: false });
    typing.set({ roomId: 1, userId: 7, isTyping: false });
    vi.advanceTimersByTime(10_000);
    expect(changes.map((c) => c.isTyping)).toEqual([true, false]);
  });

  it('ends in one room when the user sends a message there, everywhere when they leave', () => {
    start(1, 7);
    start(2, 7);
    start(2, 8);
    typing.stop(7, 1);
    expect(typing.typers(1)).toEqual([]);
    expect(typing.typers(2)).toEqual([7, 8]);
    typing.stop(7);
    expect(typing.typers(2)).toEqual([8]);
    expect(changes.filter((c) => !c.isTyping)).toEqual([
      { roomId: 1, userId: 7, isTyping: false },
      { roomId: 2, userId: 7, isTyping: false },
    ]);
  });

  it('counts several devices of one user as one typer', () => {
    start(1, 7); // phone
    start(1, 7); // laptop
    expect(changes).toHaveLength(1);
    expect(typing.typers(1)).toEqual([7]);
  });
});
