import { describe, expect, it } from 'vitest';
import { RepeatGate } from './repeat-gate.js';

describe('RepeatGate', () => {
  it('lets the first of a kind through per window and counts the rest into the next line', () => {
    const gate = new RepeatGate(1_000);
    expect(gate.pass('ada|chat.sendMessage', 0)).toBe(0);
    expect(gate.pass('ada|chat.sendMessage', 10)).toBeUndefined();
    expect(gate.pass('ada|chat.sendMessage', 999)).toBeUndefined();
    expect(gate.pass('bob|chat.sendMessage', 999)).toBe(0);
    expect(gate.pass('ada|chat.sendMessage', 1_000)).toBe(2);
    expect(gate.pass('ada|chat.sendMessage', 1_001)).toBeUndefined();
  });

  it('forgets expired kinds first once it holds as many as allowed', () => {
    const gate = new RepeatGate(1_000, 2);
    gate.pass('a', 0);
    gate.pass('b', 500);
    expect(gate.pass('c', 1_200)).toBe(0); // 'a' expired and went
    expect(gate.pass('b', 1_300)).toBeUndefined(); // 'b' is still within its window
  });
});
