import type { UserPresence } from '@streampod/protocol';

/** Words `formatLastSeen` cannot get from `Intl`; each replaces its default. */
export interface LastSeenLabels {
  /** Any status but offline. @default 'Online' */
  online?: string;
  /** Under a minute ago. @default 'Just now' in English, else `Intl`'s "now" (`jetzt`) */
  justNow?: string;
  /** Seven days ago or more. @default 'Over a week ago' in English, else the date (`12.03.2025`) */
  overAWeek?: string;
  /** Offline and never seen. @default 'Offline' */
  offline?: string;
}

export interface FormatLastSeenOptions {
  /** The time to measure from. @default the current time */
  now?: Date | number;
  /** A BCP 47 language tag for `Intl`. @default 'en' */
  locale?: string;
  labels?: LastSeenLabels;
}

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

interface Formatters {
  readonly relative: Intl.RelativeTimeFormat;
  readonly english: boolean;
}

/** One set of formatters per locale: building them costs more than formatting a list of users. */
const formatters = new Map<string, Formatters>();

function formattersFor(locale: string): Formatters {
  let found = formatters.get(locale);
  if (found === undefined) {
    const relative = new Intl.RelativeTimeFormat(locale, { style: 'narrow', numeric: 'auto' });
    // The resolved locale, not the requested one: an unsupported tag falls back to another language.
    const english = new Intl.Locale(relative.resolvedOptions().locale).language === 'en';
    formatters.set(locale, (found = { relative, english }));
  }
  return found;
}

/**
 * How long ago a user was seen, for a contact list: `Online`, `Just now`, `5m ago`,
 * `3h ago`, `yesterday`, `2d ago`, `Over a week ago`, or `Offline` (never seen). Minutes,
 * hours and days come from `Intl.RelativeTimeFormat`, so other locales read naturally
 * (`de`: `vor 5 m`); the fixed words default to English only for English locales.
 */
export function formatLastSeen(
  presence: Pick<UserPresence, 'status' | 'lastSeen'>,
  opts: FormatLastSeenOptions = {},
): string {
  const labels = opts.labels ?? {};
  if (presence.status !== 'offline') return labels.online ?? 'Online';
  if (presence.lastSeen === null) return labels.offline ?? 'Offline';
  const locale = opts.locale ?? 'en';
  const { relative, english } = formattersFor(locale);
  const now = opts.now === undefined ? Date.now() : Number(opts.now);
  // A clock slightly ahead on the server makes a negative age: that is "just now" too.
  const age = now - presence.lastSeen.getTime();
  if (age < minute) return labels.justNow ?? (english ? 'Just now' : relative.format(0, 'second'));
  if (age < hour) return relative.format(-Math.floor(age / minute), 'minute');
  if (age < day) return relative.format(-Math.floor(age / hour), 'hour');
  if (age < 7 * day) return relative.format(-Math.floor(age / day), 'day');
  if (labels.overAWeek !== undefined) return labels.overAWeek;
  return english
    ? 'Over a week ago'
    : new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(presence.lastSeen);
}
