import { describe, expect, it } from 'vitest';
import { rollUp } from './presence-rules.js';

const at = new Date('2026-05-01T10:00:00Z');
const status = (deviceIdle: boolean[], manual: 'away' | 'busy' | null = null) =>
  rollUp({ userId: 1, deviceIdle, manual, lastSeen: at }).status;

describe('rollUp: one status from all devices', () => {
  it.each([
    [[], null, 'offline'],
    [[], 'busy', 'offline'],
    [[false], null, 'online'],
    [[true], null, 'away'],
    [[true, true], null, 'away'],
    [[false, true], null, 'online'],
    [[true, false], 'busy', 'busy'],
    [[true, true], 'busy', 'busy'],
    [[false], 'away', 'away'],
  ] as const)('devices idle %j, by hand %s → %s', (devices, manual, expected) => {
    expect(status([...devices], manual)).toBe(expected);
  });

  it('counts devices, and gives lastSeen only to offline users', () => {
    expect(rollUp({ userId: 1, deviceIdle: [false, true], manual: null, lastSeen: at })).toEqual({
      userId: 1,
      status: 'online',
      lastSeen: null,
      devices: 2,
    });
    expect(rollUp({ userId: 1, deviceIdle: [], manual: null, lastSeen: at })).toEqual({
      userId: 1,
      status: 'offline',
      lastSeen: at,
      devices: 0,
    });
  });
});
