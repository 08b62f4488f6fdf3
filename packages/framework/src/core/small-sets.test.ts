import { describe, expect, it } from 'vitest';
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
