import { fail, type BeforeCall } from '@streampod/framework';

/** A token bucket's shape: `burst` calls at once, refilled at `burst` per `perMs`. */
export interface RateLimit {
  readonly burst: number;
  readonly perMs: number;
}

/** What a user may do how often; each kind is its own bucket. */
export interface RateLimits {
  /** `chat.sendMessage` @default 30 per 10 s */
  readonly messages: RateLimit;
  /** `chat.sendStreamMessage` (typing, muting) @default 30 per 10 s */
  readonly typing: RateLimit;
  /** `presence.setStatus` @default 10 per 10 s */
  readonly presence: RateLimit;
  /** `chat.react` @default 30 per 10 s */
  readonly reactions: RateLimit;
  /** `chat.createRoom` and `chat.addMembers` @default 10 per minute */
  readonly rooms: RateLimit;
  /**
   * `auth.login`, `auth.register` and `auth.changePassword`, by address (and by user for a
   * password change): password guessing goes no faster. @default 10 per minute
   */
  readonly signIn: RateLimit;
}

export const defaultRateLimits: RateLimits = {
  messages: { burst: 30, perMs: 10_000 },
  typing: { burst: 30, perMs: 10_000 },
  presence: { burst: 10, perMs: 10_000 },
  reactions: { burst: 30, perMs: 10_000 },
  rooms: { burst: 10, perMs: 60_000 },
  signIn: { burst: 10, perMs: 60_000 },
};

const kindOfPath: Readonly<Record<string, keyof RateLimits>> = {
  'chat.sendMessage': 'messages',
  'chat.sendStreamMessage': 'typing',
  'presence.setStatus': 'presence',
  'chat.react': 'reactions',
  'chat.createRoom': 'rooms',
  'chat.addMembers': 'rooms',
  'auth.login': 'signIn',
  'auth.register': 'signIn',
  'auth.changePassword': 'signIn',
};

/** `30/10s`, `10/1m`, `5/500ms`: a rate limit as an environment variable gives it. */
export function parseRateLimit(text: string): RateLimit | undefined {
  const match = /^(\d+)\/(\d+)(ms|s|m)$/.exec(text.trim());
  if (match === null) return undefined;
  const burst = Number(match[1]);
  const perMs = Number(match[2]) * (match[3] === 'ms' ? 1 : match[3] === 's' ? 1_000 : 60_000);
  return burst > 0 && perMs > 0 ? { burst, perMs } : undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Per-user token buckets, checked before a call runs: a burst passes, a flood is refused
 * with TOO_MANY_REQUESTS (saying when to retry) before anything of it is accepted. Each
 * node keeps its own (a user on two nodes has each node's budget); a full bucket is
 * forgotten, so idle users cost nothing.
 */
export class RateLimiter {
  readonly #limits: RateLimits;
  readonly #buckets = new Map<string, Bucket>();
  readonly #sweep: NodeJS.Timeout;

  constructor(limits: Partial<RateLimits> = {}) {
    this.#limits = { ...defaultRateLimits, ...limits };
    const longest = Math.max(...Object.values(this.#limits).map((l: RateLimit) => l.perMs));
    this.#sweep = setInterval(() => this.#forgetFull(), Math.min(longest, 60_000));
    this.#sweep.unref();
  }

  /** The framework hook: refuses a limited call of a user whose bucket is empty. */
  readonly beforeCall: BeforeCall = (call) => {
    const kind = kindOfPath[call.path];
    if (kind === undefined) return;
    // Signing in has no user yet: the address stands for the caller (a password change: both).
    const user = call.connection.user;
    const who = kind === 'signIn' ? `${call.connection.remoteAddress ?? '?'}` : user?.id;
    if (who === undefined) return;
    let waitMs = this.take(`${kind}:${who}`, this.#limits[kind]);
    if (kind === 'signIn' && user !== null && waitMs === 0)
      waitMs = this.take(`${kind}:user ${user.id}`, this.#limits[kind]);
    if (waitMs > 0)
      fail(
        'TOO_MANY_REQUESTS',
        `${call.path}: too many (${describe(this.#limits[kind])}); retry in ${Math.ceil(waitMs / 1000)} s`,
      );
  };

  /** Takes one token from `key`'s bucket: 0 when there was one, else how long until there is. */
  take(key: string, limit: RateLimit, now = Date.now()): number {
    const rate = limit.burst / limit.perMs;
    const bucket = this.#buckets.get(key) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / rate;
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  #forgetFull(): void {
    const now = Date.now();
    for (const [key, bucket] of this.#buckets) {
      const limit = this.#limits[key.slice(0, key.indexOf(':')) as keyof RateLimits];
      if (bucket.tokens + ((now - bucket.at) * limit.burst) / limit.perMs >= limit.burst) this.#buckets.delete(key);
    }
  }
}

function describe(limit: RateLimit): string {
  return limit.perMs % 60_000 === 0
    ? `${limit.burst} per ${limit.perMs / 60_000} min`
    : limit.perMs % 1_000 === 0
      ? `${limit.burst} per ${limit.perMs / 1_000} s`
      : `${limit.burst} per ${limit.perMs} ms`;
}
