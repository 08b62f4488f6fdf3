import { describe, expect, it } from 'vitest';
import { formatLastSeen } from './last-seen.js';

const now = new Date('2026-05-01T12:00:00.000Z');
const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

/** An offline user last seen `ago` milliseconds before `now`. */
const seen = (ago: number) => ({ status: 'offline' as const, lastSeen: new Date(now.getTime() - ago) });

describe('formatLastSeen', () => {
  it('says Online for every status but offline, whatever the last seen', () => {
    for (const status of ['online', 'away', 'busy'] as const) {
      expect(formatLastSeen({ status, lastSeen: null }, { now })).toBe('Online');
      expect(formatLastSeen({ status, lastSeen: new Date(0) }, { now })).toBe('Online');
    }
  });

  it('says Offline for a user never seen', () => {
    expect(formatLastSeen({ status: 'offline', lastSeen: null }, { now })).toBe('Offline');
  });

  it('puts each age in its bucket, at the boundaries too', () => {
    const cases: [number, string][] = [
      [0, 'Just now'],
      [59 * second, 'Just now'],
      [60 * second, '1m ago'],
      [5 * minute, '5m ago'],
      [59 * minute, '59m ago'],
      [60 * minute, '1h ago'],
      [3 * hour, '3h ago'],
      [23 * hour, '23h ago'],
      [2 * day, '2d ago'],
      [6 * day, '6d ago'],
      [7 * day - 1, '6d ago'],
      [7 * day, 'Over a week ago'],
      [400 * day, 'Over a week ago'],
    ];
    expect(cases.map(([ago]) => [ago, formatLastSeen(seen(ago), { now })])).toEqual(cases);
  });

  it('reads one day ago as yesterday, as Intl does with numeric: auto', () => {
    expect(formatLastSeen(seen(day), { now })).toBe('yesterday');
  });

  it('takes now as a number, and calls a last seen slightly in the future just now', () => {
    expect(formatLastSeen(seen(5 * minute), { now: now.getTime() })).toBe('5m ago');
    expect(formatLastSeen(seen(-2 * second), { now })).toBe('Just now');
  });

  it('measures from the current time by default', () => {
    expect(formatLastSeen({ status: 'offline', lastSeen: new Date(Date.now() - 3 * hour - minute) })).toBe('3h ago');
  });

  it('speaks German with locale de, just now and old dates included', () => {
    const de = { now, locale: 'de' };
    expect(formatLastSeen(seen(10 * second), de)).toBe('jetzt');
    expect(formatLastSeen(seen(5 * minute), de)).toBe('vor 5 m');
    expect(formatLastSeen(seen(3 * hour), de)).toBe('vor 3 Std.');
    expect(formatLastSeen(seen(6 * day), de)).toBe('vor 6 Tagen');
    expect(formatLastSeen(seen(30 * day), de)).toBe('01.04.2026');
  });

  it('keeps the English words for English variants, with their own Intl units', () => {
    const gb = { now, locale: 'en-GB' };
    expect(formatLastSeen(seen(10 * second), gb)).toBe('Just now');
    expect(formatLastSeen(seen(5 * minute), gb)).toBe('5 min ago');
    expect(formatLastSeen(seen(8 * day), gb)).toBe('Over a week ago');
  });

  it('uses the labels given instead of the defaults', () => {
    const labels = { online: 'En ligne', justNow: "À l'instant", overAWeek: 'Il y a longtemps', offline: 'Hors ligne' };
    const fr = { now, locale: 'fr', labels };
    expect(formatLastSeen({ status: 'busy', lastSeen: null }, fr)).toBe('En ligne');
    expect(formatLastSeen({ status: 'offline', lastSeen: null }, fr)).toBe('Hors ligne');
    expect(formatLastSeen(seen(30 * second), fr)).toBe("À l'instant");
    expect(formatLastSeen(seen(8 * day), fr)).toBe('Il y a longtemps');
    expect(formatLastSeen(seen(8 * day), { now, labels: { overAWeek: 'A while ago' } })).toBe('A while ago');
  });
});
