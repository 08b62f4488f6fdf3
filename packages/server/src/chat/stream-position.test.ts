import { describe, expect, it } from 'vitest';
import { decodePosition, encodePosition } from './stream-position.js';

describe('stream positions as tracked event ids', () => {
  it('round-trips a base and listed rooms, rooms in id order whatever the map order', () => {
    const position = {
      base: 100,
      rooms: new Map([
        [4, 29],
        [1, 9],
      ]),
    };
    const id = encodePosition(position);
    expect(id).toBe('c2s_1.9_4.t');
    expect(decodePosition(id)).toEqual({
      base: 100,
      rooms: new Map([
        [1, 9],
        [4, 29],
      ]),
    });
    expect(encodePosition({ base: 0, rooms: new Map() })).toBe('c0');
    expect(decodePosition('c0')).toEqual({ base: 0, rooms: new Map() });
  });

  it('reads an id from before per-room order as a base', () => {
    expect(decodePosition('120')).toEqual({ base: 120, rooms: new Map() });
    expect(decodePosition('120~3')).toEqual({ base: 120, rooms: new Map() });
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'abc', 'c', 'c1_', 'c1_2', 'c1_2.', 'c1_2.3_2.4', 'C1', 'c1 _2.3', '1~', '-1', 'c1_2.3x!']) {
      expect(decodePosition(bad), bad).toBeUndefined();
    }
    const tooMany = `c1${Array.from({ length: 1001 }, (_v, i) => `_${i.toString(36)}.1`).join('')}`;
    expect(decodePosition(tooMany)).toBeUndefined();
  });
});
