import { expect, it } from 'vitest';
import { interned } from './interned.js';

it('gives back the same text for any name, array indices and __proto__ included', () => {
  const id = 12_345;
  for (const name of [
    '',
    '__proto__',
    'constructor',
    '123',
    '-1',
    '4294967295',
    `presence:${id}`,
    'room:é🙂',
    'a\u0000b',
  ])
    expect(interned(name)).toBe(name);
});
