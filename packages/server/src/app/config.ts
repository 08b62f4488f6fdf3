import { z } from 'zod';
import { parseRateLimit } from './rate-limits.js';

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** A rate limit such as `30/10s` (a burst of 30, refilled at 30 per 10 s). */
const rate = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const limit = parseRateLimit(text);
      if (limit === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be like 30/10s: a count, then per how many ms, s or m' });
        return z.NEVER;
      }
      return limit;
    });

/** The chat server's configuration, read from environment variables (see the wire contract). */
export const ChatServerConfig = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    DATA_DIR: z.string().default('./.data'),
    DATABASE_URL: z.string().optional(),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL')
      .optional(),
    AUTH_SECRET: z.string().optional(),
    /** How long issued tokens stay valid. */
    TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3600),
    /** Lifetimes of a sign-in with `refresh: true`: its access tokens, and each refresh token. */
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(900),
    REFRESH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(30 * 24 * 3600),
    HEARTBEAT_INTERVAL_MS: ms(10_000),
    PRESENCE_TIMEOUT_MS: ms(30_000),
    IDLE_AFTER_MS: ms(300_000),
    TYPING_TIMEOUT_MS: ms(5_000),
    PRESENCE_BATCH_MS: ms(50),
    NODE_LEASE_MS: ms(15_000),
    ROOM_PRESENCE_LIST_LIMIT: z.coerce.number().int().positive().default(1_000),
    /** Open WebSockets at most, in all, from one address, and of one user. */
    MAX_CONNECTIONS: z.coerce.number().int().positive().default(10_000),
    MAX_CONNECTIONS_PER_IP: z.coerce.number().int().positive().default(1_000),
    MAX_CONNECTIONS_PER_USER: z.coerce.number().int().positive().default(20),
    /** Sockets from one address that are not WebSockets (HTTP connections, requests and upgrades still arriving). */
    MAX_HTTP_CONNECTIONS_PER_IP: z.coerce.number().int().positive().default(256),
    /**
     * Unsent MiB one WebSocket may pile up (a reader that does not read) before it is cut off,
     * and all of them together before the largest queues are cut off first.
     */
    MAX_UNSENT_MIB_PER_CONNECTION: z.coerce.number().positive().default(8),
    MAX_UNSENT_MIB: z.coerce.number().positive().default(256),
    /** A WebSocket that said it signs in and has not this long after is closed. */
    AUTH_TIMEOUT_MS: ms(10_000),
    /** A WebSocket that stays anonymous, with nothing open and no call for this long, is closed. */
    ANONYMOUS_IDLE_MS: ms(60_000),
    HTTP_HEADERS_TIMEOUT_MS: ms(10_000),
    HTTP_REQUEST_TIMEOUT_MS: ms(30_000),
    /** Browser origins besides the server's own that may open WebSockets (comma-separated; `*`: any). */
    ALLOWED_ORIGINS: z
      .string()
      .default('')
      .transform((text) =>
        text
          .split(',')
          .map((origin) => origin.trim())
          .filter((origin) => origin !== ''),
      ),
    RATE_LIMIT_MESSAGES: rate('30/10s'),
    RATE_LIMIT_TYPING: rate('30/10s'),
    RATE_LIMIT_PRESENCE: rate('10/10s'),
    RATE_LIMIT_REACTIONS: rate('30/10s'),
    RATE_LIMIT_ROOMS: rate('10/1m'),
    RATE_LIMIT_SIGN_IN: rate('10/1m'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `auto`: readable lines on a terminal, JSON lines otherwise (files, pipes, log collectors). */
    LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
    /** Folder of the built web app; served at `/` when it exists. */
    WEB_DIR: z.string().optional(),
  })
  .superRefine((config, ctx) => {
    // Nodes share messages and users through the database: separate embedded ones would split the chat.
    if (config.REDIS_URL !== undefined && config.DATABASE_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'several nodes need a shared PostgreSQL: set DATABASE_URL too',
      });
    }
  });
export type ChatServerConfig = z.infer<typeof ChatServerConfig>;

/** Parses `env`, failing with one line per bad variable. */
export function readConfig(env: Record<string, string | undefined>): ChatServerConfig {
  const blankless = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = ChatServerConfig.safeParse(blankless);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
